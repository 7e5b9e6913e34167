"""Volume spikes read from the store, on real SQLite and real PostgreSQL (marker `postgres`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from reputation.models import Author, Mention
from reputation.spread.spikes import HOUR, SpikeParams, detect_volume_spike
from reputation.store import Store
from reputation.store.counts import capped_count, distinct_authors, first_mention_at, hourly_counts
from reputation.store.mentions import save_batch
from tests.factories import mention

# A Monday, 20 minutes past the hour: windows slide with `now`, they are not clock hours.
NOW = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)


def _post(native_id: str, created_at: datetime, author: str, brand: str = "Voltmart") -> Mention:
    return mention(native_id, created_at=created_at, brand=brand, author=Author(id=author, handle=author, followers=10))


def _save(store: Store, batch: Sequence[Mention]) -> None:
    with store.transaction() as connection:
        save_batch(connection, "x", batch, {}, NOW)


def _steady_history(days: int, per_hour: int = 2) -> list[Mention]:
    """`per_hour` mentions by different people in every hour of the past `days` before the last hour."""
    return [
        _post(f"h{hour}-{i}", NOW - (hour + 1) * HOUR + timedelta(minutes=i), f"regular{i}")
        for hour in range(1, days * 24 + 1)
        for i in range(per_hour)
    ]


def test_a_burst_is_detected_end_to_end(store: Store) -> None:
    burst = [_post(f"b{i}", NOW - timedelta(minutes=5 + i), f"angry{i}") for i in range(30)]
    elsewhere = [_post(f"o{i}", NOW - timedelta(minutes=3), f"other{i}", brand="Othermart") for i in range(40)]
    _save(store, _steady_history(29) + burst + elsewhere)
    with store.engine.connect() as connection:
        spike = detect_volume_spike(connection, "Voltmart", NOW)
    assert spike.is_spike and not spike.warming_up
    assert (spike.observed, spike.expected, spike.authors, spike.baseline) == (30, 2.0, 30, "seasonal")
    assert spike.weeks_of_history == 4.0
    assert (spike.window_start, spike.window_end) == (NOW - HOUR, NOW)
    assert spike.p_value < 1e-9
    assert spike.explanation.startswith("30 mentions in the last hour vs 2.0 expected for Mondays 13:20 UTC (p=")


def test_steady_traffic_is_not_a_spike(store: Store) -> None:
    now_hour = [_post(f"n{i}", NOW - timedelta(minutes=30 + i), f"regular{i}") for i in range(3)]
    _save(store, _steady_history(29) + now_hour)
    with store.engine.connect() as connection:
        spike = detect_volume_spike(connection, "Voltmart", NOW)
    assert not spike.is_spike and (spike.observed, spike.expected) == (3, 2.0)


def test_one_person_posting_fifty_times_is_not_a_spike(store: Store) -> None:
    flood = [_post(f"f{i}", NOW - timedelta(minutes=1 + i), "obsessed") for i in range(50)]
    _save(store, _steady_history(29) + flood)
    with store.engine.connect() as connection:
        spike = detect_volume_spike(connection, "Voltmart", NOW)
        assert capped_count(connection, "Voltmart", NOW - HOUR, NOW, 3) == 3
    assert not spike.is_spike and spike.observed == 50 and spike.authors == 1
    assert "only 1 distinct author" in spike.explanation


def test_a_young_brand_is_warming_up(store: Store) -> None:
    burst = [_post(f"b{i}", NOW - timedelta(minutes=5 + i), f"angry{i}") for i in range(30)]
    _save(store, _steady_history(3) + burst)
    with store.engine.connect() as connection:
        spike = detect_volume_spike(connection, "Voltmart", NOW, SpikeParams(min_history_days=7))
    assert spike.warming_up and not spike.is_spike and spike.baseline == "profile"
    assert "warming up (3.0 of 7 days of history), not flagged" in spike.explanation


def test_a_brand_without_mentions(store: Store) -> None:
    with store.engine.connect() as connection:
        spike = detect_volume_spike(connection, "Voltmart", NOW)
        assert first_mention_at(connection, "Voltmart") is None
    assert spike.baseline == "none" and spike.observed == 0 and not spike.is_spike


def test_hourly_counts_bucket_from_start_at_the_edges(store: Store) -> None:
    start = NOW - 3 * HOUR
    edges = [
        _post("before", start - timedelta(microseconds=1), "a"),
        _post("at-start", start, "a"),
        _post("last-instant", start + HOUR - timedelta(microseconds=1), "b"),
        _post("next-bucket", start + HOUR, "c"),
        _post("late", NOW - timedelta(seconds=1), "c"),
        _post("at-end", NOW, "d"),
    ]
    _save(store, edges)
    with store.engine.connect() as connection:
        assert hourly_counts(connection, "Voltmart", start, NOW) == {start: 2, start + HOUR: 1, start + 2 * HOUR: 1}
        # Sub-second parts of `start` are dropped, keys stay on the grid.
        assert hourly_counts(connection, "Voltmart", start + timedelta(microseconds=5), NOW)[start] == 2
        assert hourly_counts(connection, "Othermart", start, NOW) == {}
        assert distinct_authors(connection, "Voltmart", start, NOW) == 3
        assert capped_count(connection, "Voltmart", start, NOW, 1) == 3
        assert first_mention_at(connection, "Voltmart") == start - timedelta(microseconds=1)


def test_the_alert_rule_raises_the_spike_with_its_numbers(store: Store) -> None:
    from reputation.alerting import load_alerting
    from tests.conftest import make_config

    burst = [_post(f"b{i}", NOW - timedelta(minutes=5 + i), f"angry{i}") for i in range(30)]
    _save(store, _steady_history(29) + burst)
    config = make_config(
        alerts={
            "rules": {
                rule: {"enabled": False} for rule in ("detractor", "repeat_complainer", "issue_spike", "collection_gap")
            }
        }
    )
    alerts = load_alerting().detect(store, config, NOW)
    assert [a.rule for a in alerts] == ["volume_spike"]
    assert alerts[0].title.startswith("Volume spike for Voltmart: 30 mentions in the last hour vs 2.0 expected")
    assert load_alerting().detect(store, config, NOW + timedelta(minutes=10)) == []  # same story, no repeat
