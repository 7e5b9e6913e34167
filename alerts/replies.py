"""Lines on open incidents about the brand's own answers: a canned reply, or one that asks again.

When an owned account answers a thread that has an open incident (its detractor
post, its unanswered complaint, its author's repeated complaints), and the
answer is a template sent to other threads or asks for what the customer
already gave, the incident gets a line saying so, announced once per answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from alerts.incidents import ACKNOWLEDGED, OPEN, enqueue
from alerts.rules import ACTIVE_WINDOW, Finding
from reputation.alerting import RaisedAlert
from reputation.config import Config, Severity
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import Thread, customer_threads
from reputation.store import as_utc
from reputation.store.schema import incidents
from reputation.wording import snippet

NOTES_KEY = "response_notes"


def note_replies(
    connection: Connection, config: Config, now: datetime, env: Mapping[str, str] | None = None
) -> list[RaisedAlert]:
    owned = OwnedAccounts.from_config(config)
    raised: list[RaisedAlert] = []
    for brand in (brand for brand in config.brands if brand.owned_accounts):
        for thread in customer_threads(connection, owned, now - ACTIVE_WINDOW, brand.name):
            if thread.notes:
                raised += _note_thread(connection, config, thread, now, env)
    return raised


def _note_thread(
    connection: Connection, config: Config, thread: Thread, now: datetime, env: Mapping[str, str] | None
) -> list[RaisedAlert]:
    keys = [post.key for post in thread.posts]
    rows = connection.execute(
        select(incidents)
        .where(
            incidents.c.status.in_([OPEN, ACKNOWLEDGED]),
            or_(incidents.c.story_key == f"unanswered:{thread.key}", incidents.c.mention_key.in_(keys)),
        )
        .order_by(incidents.c.id)
        .with_for_update()
    ).all()
    raised = []
    answers = {answer.key: answer for answer in thread.answers}
    for row in rows:
        details: dict[str, Any] = dict(row.details or {})
        noted: list[dict[str, Any]] = list(details.get(NOTES_KEY, []))
        done = {note["answer"] for note in noted}
        for answer_key, lines in thread.notes.items():
            if answer_key in done:
                continue
            answer = answers[answer_key]
            line = f"Our reply to @{thread.author} {' and '.join(lines)}"
            when = f"at {answer.created_at:%Y-%m-%d %H:%M} UTC" if answer.created_at else "at an unknown time"
            noted.append({"answer": answer_key, "at": when, "line": line})
            finding = Finding(
                story_key=row.story_key,
                rule=row.rule,
                brand=row.brand,
                severity=Severity(row.severity),
                title=row.title,
                level=row.level,
                first_seen_at=as_utc(row.first_seen_at),
                mention_key=row.mention_key,
                author_key=row.author_key,
                facts={"text": answer.text, "platform": thread.platform, "handle": thread.author, "url": ""},
            )
            alert = RaisedAlert(
                incident_id=row.id,
                rule=row.rule,
                severity=str(Severity(row.severity)),
                brand=row.brand,
                title=line,
                summary=f"\u201c{snippet(answer.text, 280)}\u201d\nSent by {answer.responder} {when}."
                f"\nOn incident #{row.id}: {snippet(row.title, 120)}",
                escalation=False,
            )
            # One announcement per answer and incident; the outbox key keeps it to one send.
            enqueue(connection, config, alert, finding, [], f"reply-note:{answer_key}", now, env)
            raised.append(alert)
        if len(noted) != len(details.get(NOTES_KEY, [])):
            details[NOTES_KEY] = noted
            connection.execute(
                update(incidents).where(incidents.c.id == row.id).values(details=details, updated_at=now)
            )
    return raised
