"""Alerts: rules -> incidents -> outbox -> Slack, and the daily digest."""
