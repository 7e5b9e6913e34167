from datetime import UTC, datetime, timedelta

from reputation.cascades import CascadeEvent, measure

T0 = datetime(2026, 1, 8, 12, tzinfo=UTC)


def event(
    key: str,
    parent: str | None,
    minutes: int,
    followers: int | None = 100,
    negative: bool = False,
    kind: str = "reply",
    author: str | None = None,
) -> CascadeEvent:
    return CascadeEvent(
        key, parent, kind, author or f"a-{key}", followers, T0 + timedelta(minutes=minutes), negative, "Voltmart"
    )


def test_metrics_of_a_nested_cascade() -> None:
    events = [
        event("root", None, 0, followers=3800, kind="post"),
        event("r1", "root", 5, negative=True),
        event("r2", "r1", 10, negative=True, followers=None),
        event("r3", "r2", 90, negative=False, followers=20_000),
        event("s1", "root", 100, kind="reshare", author="a-r1"),  # same person as r1
    ]
    metrics = measure("root", events)
    assert metrics.size == 4
    assert metrics.depth == 3
    assert metrics.authors == 4
    assert metrics.reach == 3800 + 100 + 20_000  # each person counted once
    assert metrics.velocity_per_hour == 2  # r3 and s1 within the last hour of activity
    assert metrics.negative_share == 2 / 3  # reshares are not conversation
    assert metrics.root_seen


def test_cascade_whose_root_was_never_fetched() -> None:
    metrics = measure("missing", [event("r1", "missing", 5), event("r2", "r1", 6)])
    assert not metrics.root_seen
    assert metrics.size == 2 and metrics.depth == 2
    assert metrics.started_at == T0 + timedelta(minutes=5)


def test_parent_cycles_do_not_hang() -> None:
    metrics = measure("root", [event("root", None, 0), event("a", "b", 1), event("b", "a", 2)])
    assert metrics.size == 2
