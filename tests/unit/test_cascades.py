from datetime import UTC, datetime, timedelta

from reputation.spread.cascades import CascadeEvent, measure, predict_with_seismic
from reputation.spread.prior import shipped

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


def test_exposure_grows_as_the_kernel_elapses_and_size_over_time_is_hourly() -> None:
    events = [
        event("root", None, 0, followers=1000, kind="post"),
        event("r1", "root", 30, followers=None),
        event("r2", "root", 90, followers=500),
        event("r3", "root", 150, followers=0),
    ]
    soon = measure("root", events, now=T0 + timedelta(minutes=151))
    later = measure("root", events, now=T0 + timedelta(days=7))
    assert 0 < soon.exposure < later.exposure <= 1500  # unknown followers add nothing
    assert later.exposure > 0.85 * 1500  # the power-law kernel still holds ~13% of influence after a week
    assert soon.size_series == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]  # events by hour 1, 2, 3 after the root


def test_long_cascades_keep_a_bounded_series() -> None:
    events = [event("root", None, 0, kind="post")] + [event(f"r{i}", "root", i * 60) for i in range(1, 400)]
    series = measure("root", events).size_series
    assert len(series) <= 72 and series[-1][1] == 399


def test_predictions_carry_an_interval_and_shrink_a_two_event_cascade_toward_history() -> None:
    few = [event("root", None, 0, followers=500, kind="post"), event("r1", "root", 20), event("r2", "root", 70)]
    many = [event("root", None, 0, followers=500, kind="post")] + [event(f"r{i}", "root", i) for i in range(1, 120)]
    now = T0 + timedelta(hours=2)
    measured = [(measure("root", few, now), few), (measure("root", many, now), many)]
    small, big = predict_with_seismic(measured, now, shipped())
    assert small is not None and big is not None
    for prediction, observed in ((small, 2), (big, 119)):
        assert observed <= prediction.low <= prediction.final <= prediction.high
    assert small.final < 20 * 2  # a couple of events never make a runaway forecast
    assert predict_with_seismic([], now, shipped()) == []
