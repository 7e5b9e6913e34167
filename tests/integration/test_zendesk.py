"""The Zendesk route against a local fake of its Tickets API: one ticket per incident, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from alerts.incidents import record
from alerts.outbox import deliver_pending
from alerts.rules import Finding
from alerts.zendesk import sync_tickets
from reputation.config import Config, Severity, parse_config
from reputation.errors import ConfigError
from reputation.store import Store
from reputation.store.schema import incidents, outbox
from tests.factories import BASE_TIME
from tests.fakes.zendesk import EMAIL, TOKEN, running_zendesk

ENV = {"ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN}


def zendesk_config(url: str) -> Config:
    return parse_config(
        {
            "brands": [{"name": "Voltmart"}],
            "alerts": {
                "routes": [
                    {"name": "desk", "zendesk_url": url, "email_env": "ZENDESK_EMAIL", "token_env": "ZENDESK_API_TOKEN"}
                ]
            },
        },
        "test.yaml",
    )


def finding(level: float) -> Finding:
    return Finding(
        story_key="detractor:x:1",
        rule="detractor",
        brand="Voltmart",
        severity=Severity.HIGH,
        title="Detractor post by @maya_builds on x (12 replies/quotes/reshares)",
        level=level,
        first_seen_at=BASE_TIME,
        mention_key="x:1",
        author_key="x:maya",
        facts={"text": "my Voltbook <b>caught fire</b> & support hung up", "url": "https://x.com/maya/status/1"},
    )


def alert(store: Store, config: Config, level: float, minutes: int) -> None:
    with store.transaction() as connection:
        record(connection, config, finding(level), BASE_TIME + timedelta(minutes=minutes), ENV)


def test_one_ticket_per_incident_across_a_crash_updated_on_escalation_resolved_when_solved(store: Store) -> None:
    with running_zendesk() as fake:
        config = zendesk_config(fake.url)
        alert(store, config, 12, 0)
        fake.drop_next = 1  # Zendesk creates the ticket, then the connection dies
        assert deliver_pending(store, config, BASE_TIME, ENV) == 0
        assert len(fake.tickets) == 1
        # The next run (after the backoff) finds the ticket by its external id and does not create another.
        assert deliver_pending(store, config, BASE_TIME + timedelta(minutes=5), ENV) == 1
        assert deliver_pending(store, config, BASE_TIME + timedelta(minutes=6), ENV) == 0
        (ticket,) = fake.tickets.values()
        assert ticket["external_id"] == "reputation-incident-1" and ticket["priority"] == "high"
        assert len(fake.comments[1]) == 1
        body = fake.comments[1][0]["body"]
        assert "<b>caught fire</b> & support hung up" in body and "Acknowledge" not in body
        assert "Open the post: https://x.com/maya/status/1" in body
        assert fake.comments[1][0]["public"] is False
        # Escalation: a comment on the same ticket, once even when the answer is lost.
        alert(store, config, 30, 10)
        fake.drop_next = 1
        assert deliver_pending(store, config, BASE_TIME + timedelta(minutes=10), ENV) == 0
        assert deliver_pending(store, config, BASE_TIME + timedelta(minutes=20), ENV) == 1
        assert len(fake.tickets) == 1 and len(fake.comments[1]) == 2
        assert "Escalated (grew from 12 to 30)" in fake.comments[1][1]["body"]
        # Solved in Zendesk: the incident resolves.
        assert sync_tickets(store, config, BASE_TIME + timedelta(minutes=30), ENV) == 0
        fake.solve(1)
        assert sync_tickets(store, config, BASE_TIME + timedelta(minutes=40), ENV) == 1
        with store.engine.connect() as connection:
            status = connection.scalar(select(incidents.c.status).where(incidents.c.id == 1))
        assert status == "resolved"
        assert sync_tickets(store, config, BASE_TIME + timedelta(minutes=50), ENV) == 0


def test_rate_limit_waits_for_retry_after_and_bad_credentials_say_so(store: Store) -> None:
    with running_zendesk() as fake:
        config = zendesk_config(fake.url)
        alert(store, config, 12, 0)
        fake.rate_limit_next = 1
        fake.retry_after_seconds = 120  # longer than the route's own first backoff: Zendesk's wait decides
        assert deliver_pending(store, config, BASE_TIME, ENV) == 0
        with store.engine.connect() as connection:
            row = connection.execute(select(outbox.c.next_attempt_at, outbox.c.last_error)).one()
        assert row.last_error == "Zendesk rate limit (429)"
        assert deliver_pending(store, config, BASE_TIME + timedelta(seconds=fake.retry_after_seconds - 1), ENV) == 0
        assert deliver_pending(store, config, BASE_TIME + timedelta(seconds=fake.retry_after_seconds), ENV) == 1
        assert len(fake.tickets) == 1
    with running_zendesk() as other:
        config = zendesk_config(other.url)
        alert(store, config, 40, 5)
        wrong = {**ENV, "ZENDESK_API_TOKEN": "not-the-token"}
        assert deliver_pending(store, config, BASE_TIME + timedelta(hours=1), wrong) == 0
        with store.engine.connect() as connection:
            errors = connection.scalars(select(outbox.c.last_error).where(outbox.c.last_error.is_not(None))).all()
        assert "Zendesk refused the credentials (401)" in errors
        assert not any("not-the-token" in error for error in errors)
        assert other.tickets == {}


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"zendesk_url": "https://v.zendesk.com", "token_env": "T"}, "a Zendesk route takes token_env"),
        ({"zendesk_url": "https://v.zendesk.com", "email_env": "E", "webhook_env": "W"}, "a Zendesk route takes"),
        ({"webhook_env": "W", "email_env": "E"}, "email_env is for Zendesk routes"),
        ({"zendesk_url": "v.zendesk.com", "email_env": "E", "token_env": "T"}, "like https://voltmart.zendesk.com"),
    ],
)
def test_zendesk_routes_are_validated(route: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"brands": [{"name": "A"}], "alerts": {"routes": [{"name": "r", **route}]}}, "t.yaml")


def test_the_fake_refuses_unknown_credentials() -> None:
    with running_zendesk() as fake:
        response = requests.get(f"{fake.url}/api/v2/tickets.json", auth=(f"{EMAIL}/token", "wrong"), timeout=5)
    assert response.status_code == 401 and response.json() == {"error": "Couldn't authenticate you"}
