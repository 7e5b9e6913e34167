"""Mentions for tests, with realistic defaults; alerts queued for delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from reputation.models import Author, Kind, Mention, Metrics
from reputation.store.schema import incidents, outbox

BASE_TIME = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


def mention(native_id: str, text: str = "Voltmart lost my order", **fields: Any) -> Mention:
    minutes = fields.pop("minutes", 0)
    author = fields.pop("author", None) or Author(id=f"u-{native_id}", handle=f"user_{native_id}", followers=100)
    values: dict[str, Any] = {
        "platform": "x",
        "native_id": native_id,
        "kind": Kind.POST,
        "url": f"https://x.com/i/status/{native_id}",
        "text": text,
        "created_at": BASE_TIME + timedelta(minutes=minutes),
        "author": author,
        "metrics": Metrics(likes=1),
        "raw": {"id": native_id},
    }
    values.update(fields)
    return Mention(**values)


def queue_alerts(connection: Connection, count: int, now: datetime) -> None:
    """One open incident with `count` Slack alerts ("alert 0", ...) queued on the default route, due `now`."""
    inserted = connection.execute(
        incidents.insert().values(
            story_key="s",
            rule="detractor",
            severity=3,
            status="open",
            title="t",
            level=1,
            details={},
            opened_at=now,
            first_seen_at=now,
            updated_at=now,
        )
    ).inserted_primary_key
    assert inserted is not None
    incident_id = inserted[0]
    connection.execute(
        outbox.insert(),
        [
            {
                "dedup_key": f"k{i}",
                "incident_id": incident_id,
                "route": "default",
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
                "payload": {"text": f"alert {i}", "blocks": []},
            }
            for i in range(count)
        ],
    )
