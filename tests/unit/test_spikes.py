"""Volume spikes on hourly counts: seasonal baseline, robust spread, warm-up, authors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from reputation.spread.spikes import (
    DEFAULT_PARAMS,
    HOUR,
    WEEK_HOURS,
    SpikeParams,
    VolumeSpike,
    assess_series,
    assess_volume,
    upper_tail,
)
from reputation.wording import format_p

END = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday: the window is Mondays 14:00-15:00
MONTH_AGO = END - timedelta(days=40)


def history(rate: Callable[[datetime], float], weeks: int = 4, seed: int | None = None) -> dict[datetime, int]:
    """Counts for every hour before the window: `rate` exactly, or Poisson around it with a seed."""
    rng = np.random.default_rng(seed)
    hours = [END - HOUR * (n + 1) for n in range(1, weeks * WEEK_HOURS + 1)]
    return {at: int(rng.poisson(rate(at))) if seed is not None else round(rate(at)) for at in hours}


def monday_peak(at: datetime) -> float:
    """5 an hour, but 40 on Mondays 14:00: a weekly newsletter."""
    return 40.0 if (at.weekday(), at.hour) == (0, 14) else 5.0


def assess(
    counts: dict[datetime, int],
    observed: int,
    authors: int | None = None,
    *,
    history_start: datetime | None = MONTH_AGO,
    capped: int | None = None,
    params: SpikeParams = DEFAULT_PARAMS,
) -> VolumeSpike:
    """The window Mondays 14:00-15:00 with `observed` mentions (by as many authors unless told)."""
    return assess_volume(
        "Voltmart",
        {**counts, END - HOUR: observed},
        window_end=END,
        authors=observed if authors is None else authors,
        history_start=history_start,
        params=params,
        capped=capped,
    )


def test_the_baseline_is_the_same_hour_of_week() -> None:
    spike = assess(history(monday_peak), 40)
    assert spike.expected == 40 and spike.baseline == "seasonal"
    assert "median of 4 weeks" in spike.explanation
    # One hour later the same history expects the ordinary 5.
    later = assess_volume("Voltmart", history(monday_peak), window_end=END + HOUR, authors=5, history_start=MONTH_AGO)
    assert later.expected == 5


def test_one_past_burst_does_not_raise_the_bar() -> None:
    counts = history(monday_peak)
    counts[END - HOUR - 2 * WEEK_HOURS * HOUR] = 400  # two Mondays ago at 14:00
    assert assess(counts, 40).expected == 40


def test_a_genuine_burst_is_flagged_with_its_numbers() -> None:
    counts = history(lambda at: 12.0 if (at.weekday(), at.hour) == (0, 14) else 4.0)
    spike = assess(counts, 63, authors=41)
    assert spike.is_spike and not spike.warming_up
    assert (spike.observed, spike.expected, spike.authors, spike.weeks_of_history) == (63, 12.0, 41, 4.0)
    assert spike.ratio == pytest.approx(63 / 12)
    assert spike.p_value == pytest.approx(upper_tail(63, 12.0, spike.spread**2))
    assert spike.p_value < 1e-9
    assert spike.z_score == pytest.approx((63 - 12) / spike.spread)
    # A perfectly regular history has no spread of its own: Poisson, widened for a median of 4 weeks.
    assert spike.spread == pytest.approx(math.sqrt(12 * (1 + 1.19 / 4)))
    assert spike.explanation.startswith("63 mentions in the last hour vs 12 expected for Mondays 14:00 UTC (p=")
    assert spike.explanation.endswith("; median of 4 weeks; 41 authors)")
    assert (spike.window_start, spike.window_end) == (END - HOUR, END)


def test_a_normal_monday_peak_is_not_flagged() -> None:
    counts = history(monday_peak, seed=1)
    spike = assess(counts, 46)
    assert not spike.is_spike
    assert spike.expected == pytest.approx(40, abs=6)
    assert spike.explanation.endswith("within the normal range")
    # Against the week's overall level (about 5 an hour) the same count would look like a 9x burst.
    assert 46 / np.mean(list(counts.values())) > 5


def test_noisy_history_widens_the_spread() -> None:
    regular = assess(history(lambda at: 20.0), 45)
    noisy = assess(history(lambda at: 20.0 * (1.6 if at.day % 2 else 0.6), seed=3), 45)
    assert noisy.spread > regular.spread
    assert noisy.p_value > regular.p_value


def test_warm_up_never_flags_but_shows_the_numbers() -> None:
    start = END - timedelta(days=3)
    spike = assess(history(lambda at: 5.0 if at >= start else 0.0), 500, history_start=start)
    assert spike.warming_up and not spike.is_spike
    assert spike.baseline == "profile" and spike.expected == pytest.approx(5, rel=0.2)
    assert spike.p_value < 1e-100
    assert "warming up (3.0 of 7 days of history), not flagged" in spike.explanation


def test_warm_up_ends_after_min_history_days() -> None:
    start = END - timedelta(days=8)
    spike = assess(history(lambda at: 5.0 if at >= start else 0.0), 60, history_start=start)
    assert not spike.warming_up and spike.is_spike
    assert "profile of 8.0 days" in spike.explanation


def test_fewer_weeks_than_min_seasonal_weeks_use_the_profile() -> None:
    start = END - timedelta(days=16)
    counts = history(lambda at: 6.0 if at >= start else 0.0)
    assert assess(counts, 6, history_start=start).baseline == "profile"  # 2 past weeks, 3 needed
    two_weeks = assess(counts, 6, history_start=start, params=SpikeParams(min_seasonal_weeks=2))
    assert two_weeks.baseline == "seasonal" and "median of 2 weeks" in two_weeks.explanation
    ten_days = END - timedelta(days=10)
    one_week = assess(counts, 6, history_start=ten_days, params=SpikeParams(min_seasonal_weeks=1))
    assert one_week.expected == 6 and "1 week ago" in one_week.explanation


def test_one_author_does_not_make_a_spike() -> None:
    spike = assess(history(lambda at: 4.0), 50, authors=1)
    assert not spike.is_spike and spike.p_value < 1e-9
    assert "only 1 distinct author (5 needed), not flagged" in spike.explanation


def test_a_flooder_among_regulars_is_counted_three_times() -> None:
    # 12 regulars and one account posting 50 times: 62 mentions, 15 counting at most 3 per author.
    spike = assess(history(lambda at: 12.0), 62, authors=13, capped=15)
    assert not spike.is_spike
    assert spike.observed == 62 and spike.ratio == pytest.approx(15 / 12)
    assert "62 mentions in the last hour (15 counting at most 3 per author) vs 12 expected" in spike.explanation


def test_zero_history_is_defined() -> None:
    spike = assess({}, 7, history_start=None)
    assert (spike.expected, spike.ratio, spike.p_value, spike.z_score, spike.spread) == (0.0, 0.0, 1.0, 0.0, 0.0)
    assert spike.weeks_of_history == 0 and spike.warming_up and not spike.is_spike and spike.baseline == "none"
    assert spike.explanation == (
        "7 mentions in the last hour; no history for Voltmart yet; warming up (0.0 of 7 days of history), not flagged"
    )


def test_history_starting_inside_the_window_is_no_history() -> None:
    spike = assess({}, 7, history_start=END - timedelta(minutes=30))
    assert spike.baseline == "none" and spike.observed == 7 and not spike.is_spike


def test_all_zero_history_expects_the_floor() -> None:
    quiet = assess(history(lambda at: 0.0), 0)
    assert (quiet.expected, quiet.ratio, quiet.p_value, quiet.is_spike) == (0.5, 0.0, 1.0, False)
    # Eight people writing in an hour that is always silent is news.
    sudden = assess(history(lambda at: 0.0), 8)
    assert sudden.is_spike and sudden.expected == 0.5
    assert sudden.explanation.startswith("8 mentions in the last hour vs 0.5 expected for Mondays 14:00 UTC")


def test_the_profile_fallback_follows_hour_of_day_and_weekends() -> None:
    start = END - timedelta(days=10)

    def rate(at: datetime) -> float:
        if at < start:
            return 0.0
        return (30.0 if at.hour == 14 else 3.0) * (0.3 if at.weekday() >= 5 else 1.0)

    counts = history(rate)
    at_peak = assess(counts, 32, history_start=start)
    assert at_peak.baseline == "profile" and not at_peak.is_spike
    assert at_peak.expected == pytest.approx(30, rel=0.25)
    at_night = assess_volume(
        "Voltmart", {**counts, END - 10 * HOUR: 32}, window_end=END - 9 * HOUR, authors=32, history_start=start
    )
    assert at_night.is_spike and at_night.expected == pytest.approx(3, rel=0.3)
    saturday = END - timedelta(days=2)
    weekend = assess_volume("Voltmart", counts, window_end=saturday, authors=0, history_start=start)
    assert weekend.expected == pytest.approx(0.3 * 30, rel=0.3)


def test_a_busy_day_raises_the_bar() -> None:
    counts = history(lambda at: 10.0)
    for hours_ago in range(2, 26):  # the whole last day ran at twice the usual
        counts[END - hours_ago * HOUR] = 20
    spike = assess(counts, 25)
    assert spike.expected == pytest.approx((480 + 10) / (240 + 10) * 10)
    assert "x2.0 for the last 24 h running high" in spike.explanation
    assert not spike.is_spike
    assert assess(counts, 25, params=SpikeParams(level_hours=0)).expected == 10


def test_a_longer_window() -> None:
    counts = history(lambda at: 4.0)
    spike = assess_volume(
        "Voltmart",
        {**counts, END - HOUR: 30, END - 2 * HOUR: 30, END - 3 * HOUR: 30},
        window_end=END,
        authors=80,
        history_start=MONTH_AGO,
        params=SpikeParams(window_hours=3),
    )
    assert (spike.observed, spike.expected) == (90, 12.0)
    assert spike.is_spike and spike.window_start == END - 3 * HOUR
    assert spike.explanation.startswith("90 mentions in the last 3 hours vs 12 expected for Mondays 12:00-15:00 UTC")


def test_counts_off_the_grid_fall_in_the_bucket_that_holds_them() -> None:
    spike = assess_volume(
        "Voltmart",
        {END - timedelta(minutes=1): 3, END - timedelta(minutes=59): 4},
        window_end=END,
        authors=7,
        history_start=MONTH_AGO,
    )
    assert spike.observed == 7


def test_assess_series_matches_assess_volume() -> None:
    counts = history(monday_peak, seed=5)
    total = 4 * WEEK_HOURS + 1
    series = [float(counts.get(END - (total - i) * HOUR, 0)) for i in range(total - 1)] + [60.0]
    from_series = assess_series("Voltmart", series, window_end=END, authors=60)
    from_counts = assess(counts, 60)
    assert from_series == from_counts
    with pytest.raises(ValueError, match="hourly counts"):
        assess_series("Voltmart", series[1:], window_end=END, authors=60)


def test_facts_are_json_ready() -> None:
    facts = assess(history(lambda at: 4.0), 63, authors=41).facts()
    assert json.loads(json.dumps(facts))["observed"] == 63
    assert facts["baseline"] == "seasonal" and facts["window_end"] == END.isoformat()


def test_params_are_checked() -> None:
    with pytest.raises(ValueError):
        SpikeParams(window_hours=0)
    with pytest.raises(ValueError):
        SpikeParams(weeks=2, min_seasonal_weeks=3)
    with pytest.raises(ValueError):
        SpikeParams(p_threshold=0)


def _brute_tail(observed: int, mean: float, variance: float) -> float:
    if variance <= mean:
        pmf = [math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(observed)]
    else:
        size, q = mean * mean / (variance - mean), mean / (mean * mean / (variance - mean) + mean)
        pmf = [
            math.exp(
                math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) + size * math.log1p(-q) + k * math.log(q)
            )
            for k in range(observed)
        ]
    return 1.0 - sum(pmf)


@pytest.mark.parametrize(
    ("observed", "mean", "variance"),
    [(5, 0.5, 0.5), (3, 5.0, 5.0), (15, 5.0, 5.0), (1000, 1000.0, 1000.0), (30, 12.0, 40.0), (4, 10.0, 90.0)],
)
def test_upper_tail_matches_the_sum_of_the_pmf(observed: int, mean: float, variance: float) -> None:
    assert upper_tail(observed, mean, variance) == pytest.approx(_brute_tail(observed, mean, variance), rel=1e-6)


def test_upper_tail_edges() -> None:
    assert upper_tail(0, 3.0, 3.0) == 1.0
    assert upper_tail(2, 0.0, 0.0) == 0.0
    assert 0 < upper_tail(63, 0.5, 0.5) < 1e-100  # far in the tail, still not rounded to 0
    assert upper_tail(40, 10.0, 10.0) < upper_tail(40, 10.0, 30.0)  # more spread, less surprise


def test_p_values_read_like_people_write_them() -> None:
    assert [format_p(p) for p in (2.3e-9, 4e-4, 0.05, 0.5, 0.0)] == ["2e-9", "4e-4", "0.05", "0.50", "<1e-300"]
