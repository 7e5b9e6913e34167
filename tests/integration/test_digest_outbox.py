"""The digest's health section counts the brand's alerts Slack has not taken yet."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from alerts.digest import render_html
from alerts.digest.summary import collection_line
from reputation.store.schema import incidents, outbox
from tests.integration.test_digest import World, digest_for, world  # noqa: F401 - world is a fixture


def test_parked_and_retrying_alerts_are_in_the_health_section(world: World) -> None:  # noqa: F811
    now = datetime.now(UTC)
    with world.store.transaction() as connection:
        incident_ids = list(connection.scalars(select(incidents.c.id).where(incidents.c.brand == "Voltmart")))
        connection.execute(outbox.delete())
        connection.execute(
            outbox.insert(),
            [
                {"dedup_key": f"k{n}", "incident_id": incident_ids[0], "route": "default", "payload": {},
                 "created_at": now, "attempts": 8 if n == 0 else 1, "next_attempt_at": now,
                 "failed_at": now if n == 0 else None, "sent_at": now if n == 3 else None}
                for n in range(4)
            ],
        )  # fmt: skip
    digest = digest_for(world, world.story_day)
    assert (digest.alerts_retrying, digest.alerts_parked) == (2, 1)  # the sent one is not counted
    html = render_html([digest], now)
    assert "Alerts not yet in Slack: 2 being retried, 1 parked" in html
    assert "1 alert parked after repeated delivery failures" in (collection_line(digest) or "")
