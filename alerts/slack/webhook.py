"""Delivery of one Slack payload through an incoming webhook, as a result the outbox can act on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.webhook import WebhookClient

from alerts.slack.blocks import clip
from reputation.redaction import scrub

# slack_sdk logs each request's URL at DEBUG, and a webhook's URL is its secret:
# the client gets a logger of its own that never goes below INFO.
_client_log = logging.getLogger("alerts.slack.webhook.client")
_client_log.setLevel(logging.INFO)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int
    retry_after_seconds: float | None
    error: str | None


def send_webhook(url: str, payload: dict[str, Any], timeout_seconds: float = 10.0) -> SendResult:
    """POST one payload. Never raises for HTTP or network failures; never echoes the URL."""
    client = WebhookClient(url=url, timeout=int(timeout_seconds), logger=_client_log)
    try:
        response = client.send_dict(payload)
    except Exception as error:  # noqa: BLE001 - any transport failure is a retryable send failure
        return SendResult(False, 0, None, f"{type(error).__name__} while posting to the webhook")
    if response.status_code == 200:
        return SendResult(True, 200, None, None)
    retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
    try:
        wait = float(retry_after[0] if isinstance(retry_after, list) else retry_after) if retry_after else None
    except ValueError:
        wait = None
    # Scrubbed before clipping, so a clip cannot cut the echoed URL into a piece that escapes the scrub.
    said = clip(scrub(str(response.body), [url]), 200)
    return SendResult(False, response.status_code, wait, f"HTTP {response.status_code}: {said}")
