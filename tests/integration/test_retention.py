"""Retention on real SQLite and PostgreSQL: old mentions go, incidents stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reputation.config import Config
from reputation.enrichment import Enricher
from reputation.errors import ConfigError
from reputation.models import Author
from reputation.retention import delete_old_mentions
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import authors, enrichments, incidents, mentions
from tests.factories import BASE_TIME, mention

NOW = BASE_TIME + timedelta(days=100)


def count(store: Store, table: object) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def seed(store: Store, config: Config) -> None:
    dan = Author(id="dan", handle="dan_okafor", followers=120)
    old = [
        mention(f"old{i}", "Voltmart lost my order, awful", created_at=NOW - timedelta(days=40 + i)) for i in range(7)
    ]
    old.append(mention("old-dan", "Voltmart never refunded me", created_at=NOW - timedelta(days=45), author=dan))
    recent = [mention(f"new{i}", "Voltmart lost my order again", created_at=NOW - timedelta(days=i)) for i in range(3)]
    recent.append(mention("new-dan", "Still no refund from Voltmart", created_at=NOW - timedelta(days=1), author=dan))
    with store.transaction() as connection:
        save_batch(connection, "x", [*old, *recent], None, NOW)
    Enricher(config).run(store, NOW)
    with store.transaction() as connection:
        connection.execute(
            incidents.insert().values(
                story_key="detractor:x:old0",
                rule="detractor",
                brand="Voltmart",
                severity=3,
                status="resolved",
                title="Detractor post by @user_old0",
                mention_key="x:old0",
                author_key="x:u-old0",
                level=1,
                details={},
                opened_at=NOW - timedelta(days=40),
                first_seen_at=NOW - timedelta(days=40),
                updated_at=NOW - timedelta(days=39),
            )
        )


def test_old_mentions_go_with_their_enrichments_and_incidents_stay(store: Store, config: Config) -> None:
    seed(store, config)
    assert count(store, mentions) == count(store, enrichments) == 12

    report = delete_old_mentions(store, NOW, keep_days=30, batch_size=3)

    assert (report.mentions, report.enrichments) == (8, 8)
    assert report.cutoff_at == NOW - timedelta(days=30)
    with store.engine.connect() as connection:
        kept = set(connection.scalars(select(mentions.c.key)))
        enriched = set(connection.scalars(select(enrichments.c.mention_key)))
        people = set(connection.scalars(select(authors.c.key)))
        incident = connection.execute(select(incidents.c.mention_key, incidents.c.title)).one()
    assert kept == enriched == {"x:new0", "x:new1", "x:new2", "x:new-dan"}
    # Dan still posts and the incident's author is named by it; the other old authors are forgotten.
    assert people == {"x:u-new0", "x:u-new1", "x:u-new2", "x:dan", "x:u-old0"}
    assert report.authors == 6
    assert incident.mention_key == "x:old0" and incident.title == "Detractor post by @user_old0"


def test_running_again_deletes_nothing_more(store: Store, config: Config) -> None:
    seed(store, config)
    delete_old_mentions(store, NOW, keep_days=30)
    again = delete_old_mentions(store, NOW, keep_days=30)
    assert (again.mentions, again.enrichments, again.authors) == (0, 0, 0)
    assert count(store, mentions) == 4


def test_keeping_less_than_a_day_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="at least 1 day"):
        delete_old_mentions(store, NOW, keep_days=0)
