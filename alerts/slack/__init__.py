"""Slack: Block Kit messages (blocks), delivery (webhook, web_api), and the buttons' answers (interactivity, server)."""
