"""Issue trends read from the store and raised by the alert rule, on real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from alerts.rules import issue_spikes
from reputation.issues.trends import TrendParams, issue_trends
from reputation.models import Author, Mention
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import enrichments, issues
from tests.conftest import make_config
from tests.factories import mention

NOW = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)  # windows are laid back from now, not calendar days
DAY = timedelta(days=1)


def _complaint(native_id: str, at: datetime, author: str) -> Mention:
    return mention(native_id, created_at=at, brand="Voltmart", author=Author(id=author, handle=author, followers=5))


def _store(store: Store, posts: Sequence[tuple[Mention, str]], born: dict[str, datetime]) -> None:
    with store.transaction() as connection:
        save_batch(connection, "x", [m for m, _ in posts], {}, NOW)
        connection.execute(
            insert(issues),
            [
                {
                    "id": i,
                    "brand": "Voltmart",
                    "label": f"label of {i}",
                    "terms": {},
                    "created_at": at,
                    "last_seen_at": NOW,
                }
                for i, at in born.items()
            ],
        )
        connection.execute(
            insert(enrichments),
            [
                {
                    "mention_key": m.key,
                    "sentiment": "negative",
                    "compound": -0.6,
                    "confidence": 0.9,
                    "intents": [],
                    "needs_help": True,
                    "issue_id": issue_id,
                    "cascade_key": m.key,
                    "enriched_at": NOW,
                }
                for m, issue_id in posts
            ],
        )


def _world(store: Store) -> None:
    start = NOW - 21 * DAY
    posts: list[tuple[Mention, str]] = []
    # "steady": 4 posts a day for three weeks, then 30 from 30 people in the last 24 h (a spike).
    for day in range(1, 21):
        for i in range(4):
            posts.append((_complaint(f"s{day}-{i}", NOW - day * DAY - timedelta(hours=i + 1), f"p{i}"), "iss-steady"))
    for i in range(30):
        posts.append((_complaint(f"s0-{i}", NOW - timedelta(minutes=10 + i), f"new{i}"), "iss-steady"))
    # "fresh": born 3 hours ago, 9 posts from 9 people (new). "loud": one person, 12 posts (no trend).
    posts += [(_complaint(f"f{i}", NOW - timedelta(hours=3, minutes=-i), f"fresh{i}"), "iss-fresh") for i in range(9)]
    posts += [(_complaint(f"l{i}", NOW - timedelta(hours=2, minutes=-i), "angry_one"), "iss-loud") for i in range(12)]
    # The brand's first mention, just over three weeks ago: 20 full windows of history before the current one.
    posts.append((_complaint("first", start - timedelta(hours=1), "someone"), "iss-steady"))
    born = {"iss-steady": start, "iss-fresh": NOW - timedelta(hours=3), "iss-loud": NOW - timedelta(hours=2)}
    _store(store, posts, born)


def test_trends_count_windows_back_from_now(store: Store) -> None:
    _world(store)
    with store.engine.connect() as connection:
        found = {t.issue_id: t for t in issue_trends(connection, "Voltmart", NOW, TrendParams(), 28)}
    assert set(found) == {"iss-steady", "iss-fresh", "iss-loud"}
    steady = found["iss-steady"].trend
    assert (steady.posts, steady.authors, steady.history_windows) == (30, 30, 20)
    assert steady.expected == 4.0 and steady.flagged and steady.status == "spiking"
    fresh = found["iss-fresh"]
    assert fresh.trend.status == "new" and fresh.label == "label of iss-fresh"
    assert fresh.first_post_at == NOW - timedelta(hours=3)
    loud = found["iss-loud"].trend
    assert (loud.posts, loud.counted, loud.authors, loud.flagged) == (12, 3, 1, False)


def test_the_rule_raises_new_and_spiking_issues_with_the_test_shown(store: Store) -> None:
    _world(store)
    with store.engine.connect() as connection:
        findings = {f.facts["issue_id"]: f for f in issue_spikes(connection, make_config(), NOW)}
    assert set(findings) == {"iss-steady", "iss-fresh"}
    steady = findings["iss-steady"]
    assert steady.title == "Spiking issue \u201clabel of iss-steady\u201d: 30 posts in 24 h vs 4.0 expected"
    assert steady.facts["explanation"].startswith("30 posts in 24 h vs 4.0 expected (p=")
    assert steady.facts["p_value"] < 1e-5 and steady.facts["authors"] == 30
    assert findings["iss-fresh"].title.startswith("New issue \u201clabel of iss-fresh\u201d: 9 posts")


def test_a_young_store_is_warming_up(store: Store) -> None:
    _world(store)
    config = make_config(alerts={"rules": {"issue_spike": {"min_history_days": 30}}})
    with store.engine.connect() as connection:
        assert issue_spikes(connection, config, NOW) == []
