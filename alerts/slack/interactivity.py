"""Slack interactivity: acknowledge, assign, resolve or dismiss an incident from its alert.

Every request is checked before anything else: Slack's HMAC signature over the
raw body, a timestamp no older than five minutes (slack_sdk's SignatureVerifier)
and a signature never seen before (a replay is refused even inside the window).
The accepted action is logged in `interactions` in the same transaction as the
incident change, which makes the log the record of who did what.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from alerts.errors import RequestRejected
from alerts.incidents import ACKNOWLEDGED, FALSE_POSITIVE, OPEN, RESOLVED
from alerts.slack.blocks import ACTIONS_BLOCK_PREFIX, action_buttons, clip_escaped
from reputation.models import clean_label
from reputation.store import Store
from reputation.store.schema import incidents, interactions

SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
# Slack only ever hands out response URLs on this host; anything else would let
# a forged payload make us POST to an address of its choosing.
SLACK_RESPONSE_URL_PREFIX = "https://hooks.slack.com/"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_INCIDENT_ID = re.compile(r"^[0-9]{1,10}$")
_STATUS_AFTER = {"acknowledge": ACKNOWLEDGED, "resolve": RESOLVED, "false_positive": FALSE_POSITIVE}
_VERB = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "false_positive": "marked as a false positive",
    "assign": "assigned",
}


@dataclass(frozen=True)
class Interaction:
    action: str
    incident_id: int
    user_id: str
    user_name: str
    value: str | None
    response_url: str | None
    blocks: list[dict[str, Any]]


def verify(body: bytes, headers: Mapping[str, str], signing_secret: str) -> str:
    """Return the request's signature when it is authentic and fresh; raise otherwise."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp", "")
    signature = lowered.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or not signature:
        raise RequestRejected(401, "missing Slack signature headers")
    try:
        body.decode("utf-8")  # slack_sdk decodes the body to check it; Slack only ever sends UTF-8
    except UnicodeDecodeError:
        raise RequestRejected(400, "body is not UTF-8") from None
    verifier = SignatureVerifier(signing_secret)
    if abs(verifier.clock.now() - int(timestamp)) > 5 * 60:
        raise RequestRejected(401, "request timestamp is more than five minutes old")
    if not verifier.is_valid(body, timestamp, signature):
        raise RequestRejected(401, "invalid Slack signature")
    return signature


MAX_JSON_DEPTH = 64  # a block_actions payload is a few levels deep
MAX_INCIDENT_ID = 2**31 - 1  # the incidents.id column


def _depth(text: str) -> int:
    """Bracket nesting of a JSON text (brackets inside strings count too: a bound, not a parse)."""
    deepest = level = 0
    for char in text:
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestRejected(400, f"{what} is not an object")
    return value


def parse(body: bytes) -> Interaction:
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        text = form["payload"][0]
        if _depth(text) > MAX_JSON_DEPTH:
            raise RequestRejected(400, f"payload nested deeper than {MAX_JSON_DEPTH} levels")
        payload = _object(json.loads(text), "payload")
        actions = payload["actions"]
        action = _object(actions[0] if isinstance(actions, list) and actions else None, "action")
        block_id = str(action["block_id"])
        user = _object(payload["user"], "user")
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        raise RequestRejected(400, "not a Slack block_actions payload") from None
    if payload.get("type") != "block_actions" or not block_id.startswith(ACTIONS_BLOCK_PREFIX):
        raise RequestRejected(400, "not an action on an incident")
    name = str(action.get("action_id", ""))
    if name not in _VERB:
        raise RequestRejected(400, f"unknown action {name[:40]!r}")
    incident = block_id.removeprefix(ACTIONS_BLOCK_PREFIX)
    user_id = str(user.get("id", ""))
    if not _INCIDENT_ID.match(incident) or int(incident) > MAX_INCIDENT_ID or not _USER_ID.match(user_id):
        raise RequestRejected(400, "malformed incident or user id")
    value = action.get("selected_user") if name == "assign" else None
    if name == "assign" and not (isinstance(value, str) and _USER_ID.match(value)):
        raise RequestRejected(400, "assign needs a selected user")
    message = _object(payload.get("message") or {}, "message")
    blocks = message.get("blocks") or []
    response_url = payload.get("response_url")
    return Interaction(
        action=name,
        incident_id=int(incident),
        user_id=user_id,
        user_name=clean_label(str(user.get("username") or user.get("name") or user_id))[:200],
        value=value,
        response_url=response_url if isinstance(response_url, str) else None,
        # Only objects are blocks; anything else in the list would break the message update.
        blocks=[block for block in blocks if isinstance(block, dict)] if isinstance(blocks, list) else [],
    )


def apply(store: Store, interaction: Interaction, signature: str, now: datetime) -> dict[str, Any]:
    """Record the action and change the incident; a replayed signature changes nothing."""
    try:
        with store.transaction() as connection:
            incident = connection.execute(
                select(incidents).where(incidents.c.id == interaction.incident_id).with_for_update()
            ).first()
            if incident is None:
                raise RequestRejected(404, f"no incident #{interaction.incident_id}")
            connection.execute(
                interactions.insert().values(
                    signature=signature,
                    received_at=now,
                    incident_id=incident.id,
                    user_id=interaction.user_id,
                    user_name=interaction.user_name,
                    action=interaction.action,
                    value=interaction.value,
                )
            )
            values: dict[str, Any] = {"updated_at": now}
            if interaction.action == "assign":
                values["assignee"] = interaction.value
            else:
                values["status"] = _STATUS_AFTER[interaction.action]
            if incident.acknowledged_at is None:
                # Any response from a person counts as the acknowledgement the SLA waits for.
                values["acknowledged_at"] = now
                if interaction.action == "assign" and incident.status == OPEN:
                    values["status"] = ACKNOWLEDGED
            if interaction.action in ("resolve", "false_positive"):
                values["resolved_at"] = now
            connection.execute(update(incidents).where(incidents.c.id == incident.id).values(**values))
            changed = connection.execute(select(incidents).where(incidents.c.id == incident.id)).one()
    except IntegrityError:
        raise RequestRejected(409, "this request was already handled (replay)") from None
    return dict(changed._mapping)


def updated_message(interaction: Interaction, incident: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The original alert with a line saying who did what; buttons stay while it is open."""
    kept: list[dict[str, Any]] = [
        block
        for block in interaction.blocks
        if not str(block.get("block_id", "")).startswith(ACTIONS_BLOCK_PREFIX) and block.get("block_id") != "status"
    ]
    did = _VERB[interaction.action]
    whom = f" to <@{interaction.value}>" if interaction.action == "assign" else ""
    # User ids were checked against Slack's id format, so these mentions are ours to make.
    line = f"{did.capitalize()}{whom} by <@{interaction.user_id}> at {now:%H:%M} UTC"
    status = clip_escaped(str(incident["status"]).replace("_", " "), 40)
    kept.append(
        {"type": "context", "block_id": "status", "elements": [{"type": "mrkdwn", "text": f"{line} \u00b7 {status}"}]}
    )
    if incident["status"] in (OPEN, ACKNOWLEDGED):
        kept.append(action_buttons(int(incident["id"])).to_dict())
    return {"replace_original": True, "text": f"Incident #{incident['id']} {did}", "blocks": kept}


def post_update(response_url: str | None, message: dict[str, Any], allowed_prefixes: Sequence[str]) -> bool:
    if not response_url or not any(response_url.startswith(prefix) for prefix in allowed_prefixes):
        return False
    response = WebhookClient(url=response_url, timeout=5).send_dict(message)
    return response.status_code == 200
