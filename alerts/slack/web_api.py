"""Slack Web API delivery: chat.postMessage with our outbox id in the message metadata.

The metadata is what makes delivery exactly-once. A worker that dies after
Slack accepted a message but before the outbox row was marked sent leaves the
row's outcome unknown; the next attempt first looks for a recent message in
the channel that carries the row's id, and only posts when there is none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from alerts.slack.webhook import SendResult

DEFAULT_API_URL = "https://slack.com/api/"
METADATA_EVENT = "reputation_alert"
HISTORY_PAGES = 5


def _client(token: str, base_url: str | None) -> WebClient:
    # retry_handlers=[]: the outbox owns retries and backoff, not the client.
    return WebClient(token=token, base_url=base_url or DEFAULT_API_URL, timeout=10, retry_handlers=[])


def _failure(error: Exception) -> SendResult:
    if isinstance(error, SlackApiError):
        response = error.response
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        wait = float(retry_after[0] if isinstance(retry_after, list) else retry_after) if retry_after else None
        code = response.get("error") if isinstance(response.data, dict) else None
        return SendResult(False, response.status_code, wait, f"Slack API error: {code or response.status_code}")
    return SendResult(False, 0, None, f"{type(error).__name__} while calling the Slack API")


def post_message(token: str, channel: str, payload: dict[str, Any], outbox_id: int, base_url: str | None) -> SendResult:
    try:
        _client(token, base_url).chat_postMessage(
            channel=channel,
            text=payload["text"],
            blocks=payload["blocks"],
            metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": outbox_id}},
            unfurl_links=False,
            unfurl_media=False,
        )
    except (SlackClientError, OSError) as error:
        return _failure(error)
    return SendResult(True, 200, None, None)


def already_posted(
    token: str, channel: str, outbox_id: int, since: datetime, base_url: str | None
) -> bool | SendResult:
    """Whether a message for this outbox row is in the channel; a SendResult when Slack cannot tell us."""
    client = _client(token, base_url)
    cursor: str | None = None
    try:
        for _ in range(HISTORY_PAGES):
            page = client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp() - 60:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and (metadata.get("event_payload") or {}).get("outbox_id") == outbox_id
                ):
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False
    except (SlackClientError, OSError) as error:
        return _failure(error)
    return False
