"""Zendesk routes: one ticket per incident, updated on escalation, and its status read back.

A ticket carries its incident as `external_id` (reputation-incident-N) and each
outbox row's text ends with a marker (reputation outbox M). Before creating, the
route asks Zendesk for the incident's ticket; before commenting, it looks for
the row's marker in the ticket's comments. So a process that dies after Zendesk
accepted a ticket or comment but before the row was marked sent does not
create or comment twice: delivery is exactly-once, like the Slack Web API route.

Auth is Zendesk's API token scheme: Basic `{email}/token:{api token}`. A 429 is
retried after its Retry-After; 401/403 and other 4xx are reported as such.
`sync_tickets` resolves open incidents whose ticket was solved or closed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import select, update

from alerts.slack.webhook import SendResult
from reputation.config import Config, Route
from reputation.store import Store
from reputation.store.schema import incidents, outbox

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0
_PRIORITY = {"critical": "urgent", "high": "high", "medium": "normal", "low": "low"}
_SEVERITY = re.compile(r"^\[(critical|high|medium|low)\]")
SOLVED = ("solved", "closed")


def external_id(incident_id: int) -> str:
    return f"reputation-incident-{incident_id}"


def marker(outbox_id: int) -> str:
    return f"(reputation outbox {outbox_id})"


class ZendeskError(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error)
        self.result = result


class ZendeskClient:
    """The few Tickets API calls a route needs, over one session."""

    def __init__(self, route: Route, env: Mapping[str, str]) -> None:
        self.base = (route.zendesk_url or "").rstrip("/") + "/api/v2/"
        self.session = requests.Session()
        self.session.auth = (f"{env.get(route.email_env or '', '')}/token", env.get(route.token_env or "", ""))
        self.session.headers["Accept"] = "application/json"

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.session.request(method, self.base + path, timeout=TIMEOUT_SECONDS, **kwargs)
        except requests.RequestException as error:
            raise ZendeskError(SendResult(False, 0, None, f"{type(error).__name__} while calling Zendesk")) from None
        if response.status_code == 429:
            wait = response.headers.get("Retry-After")
            seconds = float(wait) if wait and wait.replace(".", "", 1).isdigit() else None
            raise ZendeskError(SendResult(False, 429, seconds, "Zendesk rate limit (429)"))
        if response.status_code in (401, 403):
            raise ZendeskError(
                SendResult(
                    False, response.status_code, None, f"Zendesk refused the credentials ({response.status_code})"
                )
            )
        if response.status_code >= 400:
            raise ZendeskError(
                SendResult(False, response.status_code, None, f"Zendesk answered {response.status_code}")
            )
        try:
            body = response.json()
        except ValueError:
            raise ZendeskError(SendResult(False, response.status_code, None, "Zendesk answered without JSON")) from None
        return body if isinstance(body, dict) else {}

    def ticket_for(self, incident_id: int) -> dict[str, Any] | None:
        found = self._call("GET", "tickets.json", params={"external_id": external_id(incident_id)})
        tickets = found.get("tickets") or []
        return tickets[0] if tickets else None

    def has_comment(self, ticket_id: int, text: str) -> bool:
        path: str | None = f"tickets/{ticket_id}/comments.json"
        while path:
            page = self._call("GET", path)
            if any(text in str(comment.get("body", "")) for comment in page.get("comments") or []):
                return True
            following = page.get("next_page")
            path = following.split("/api/v2/", 1)[1] if isinstance(following, str) and "/api/v2/" in following else None
        return False

    def create(self, incident_id: int, subject: str, body: str, priority: str) -> None:
        ticket = {
            "subject": subject[:250],
            "comment": {"body": body, "public": False},
            "external_id": external_id(incident_id),
            "priority": priority,
            "tags": ["reputation-monitor"],
        }
        self._call("POST", "tickets.json", json={"ticket": ticket})

    def comment(self, ticket_id: int, body: str, priority: str | None) -> None:
        ticket: dict[str, Any] = {"comment": {"body": body, "public": False}}
        if priority:
            ticket["priority"] = priority
        self._call("PUT", f"tickets/{ticket_id}.json", json={"ticket": ticket})


def _text(payload: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, body and priority from the Block Kit payload the outbox holds."""
    subject = str(payload.get("text", "Reputation alert"))
    lines = []
    for block in payload.get("blocks") or []:
        if block.get("type") == "actions":
            continue  # Slack's buttons mean nothing in a ticket
        texts = [block.get("text"), *(block.get("fields") or []), *(block.get("elements") or [])]
        lines += [
            _unescape(item["text"], markup=item.get("type") == "mrkdwn")
            for item in texts
            if isinstance(item, dict) and isinstance(item.get("text"), str)
        ]
    subject = _unescape(subject)
    severity = _SEVERITY.match(subject)
    return subject, "\n\n".join(lines), _PRIORITY.get(severity.group(1) if severity else "", "normal")


_LINK = re.compile(r"<(https://[^|>\s]+)\|([^>]*)>")
_BOLD = re.compile(r"\*([^*\n]+)\*")


def _unescape(text: str, markup: bool = False) -> str:
    """Slack's escaping (and, in mrkdwn, its links and bold) to plain text: a ticket comment is shown as written."""
    if markup:
        text = _BOLD.sub(r"\1", _LINK.sub(r"\2: \1", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def send_ticket(route: Route, row: Any, env: Mapping[str, str]) -> SendResult:
    """Open the incident's ticket, or comment on it; never twice for one outbox row."""
    if not env.get(route.email_env or ""):
        return SendResult(False, 0, None, f"route {route.name!r} has no ${route.email_env} in the environment")
    client = ZendeskClient(route, env)
    subject, body, priority = _text(row.payload)
    body = f"{body}\n\n{marker(row.id)}"
    try:
        ticket = client.ticket_for(row.incident_id)
        if ticket is None:
            client.create(row.incident_id, subject, body, priority)
        elif not client.has_comment(int(ticket["id"]), marker(row.id)):
            client.comment(int(ticket["id"]), f"{subject}\n\n{body}", priority)
        else:
            log.info("alert %s was already on Zendesk ticket %s", row.id, ticket["id"])
    except ZendeskError as error:
        return error.result
    return SendResult(True, 200, None, None)


def sync_tickets(store: Store, config: Config, now: datetime, env: Mapping[str, str]) -> int:
    """Resolve open incidents whose Zendesk ticket is solved or closed; returns how many."""
    resolved = 0
    for route in (r for r in config.alerts.routes if r.zendesk_url and env.get(r.secret_env)):
        with store.engine.connect() as connection:
            ids = connection.scalars(
                select(outbox.c.incident_id)
                .join(incidents, incidents.c.id == outbox.c.incident_id)
                .where(
                    outbox.c.route == route.name,
                    outbox.c.sent_at.is_not(None),
                    incidents.c.status.in_(["open", "acknowledged"]),
                )
                .distinct()
            ).all()
        client = ZendeskClient(route, env)
        for incident_id in ids:
            try:
                ticket = client.ticket_for(incident_id)
            except ZendeskError as error:
                log.warning("route %s: cannot read ticket of incident %s: %s", route.name, incident_id, error)
                break  # the next cycle tries again; a 429 or an outage affects every call
            if ticket is None or ticket.get("status") not in SOLVED:
                continue
            with store.transaction() as connection:
                done = connection.execute(
                    update(incidents)
                    .where(incidents.c.id == incident_id, incidents.c.status.in_(["open", "acknowledged"]))
                    .values(status="resolved", resolved_at=now, updated_at=now)
                )
            if done.rowcount:
                log.info(
                    "incident %s resolved: Zendesk ticket %s is %s", incident_id, ticket.get("id"), ticket["status"]
                )
                resolved += 1
    return resolved
