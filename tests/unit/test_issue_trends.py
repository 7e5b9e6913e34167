"""New and spiking issues (`reputation.issues.trends`): the baseline, the test and the gates."""

from __future__ import annotations

import statistics

import pytest

from reputation.issues.trends import Baseline, TrendParams, assess_issue, brand_baseline, winsorised_mean
from reputation.spread.spikes import upper_tail

PARAMS = TrendParams()


def test_a_new_issue_after_the_warm_up_is_flagged_with_its_numbers() -> None:
    trend = assess_issue("iss-1", [0] * 14, posts=12, authors=10, counted=12, new=True)
    assert trend.flagged and trend.status == "new"
    assert trend.expected == PARAMS.min_expected and trend.p_value < 1e-6
    assert trend.explanation.startswith("12 posts in 24 h vs 0.5 expected (p=")
    assert "winsorised mean of 14 windows; 10 authors)" in trend.explanation


def test_nothing_is_flagged_while_the_brand_is_warming_up() -> None:
    # On a first import every issue is new: none of them is news.
    trend = assess_issue("iss-1", [0, 0, 0], posts=40, authors=30, new=True)
    assert trend.significant and trend.warming_up and not trend.flagged and trend.status == ""
    assert "warming up (3 of 7 windows of history), not flagged" in trend.explanation


def test_one_angry_person_does_not_make_a_trend() -> None:
    alone = assess_issue("iss-1", [0] * 14, posts=12, authors=1, counted=3, new=True)
    assert not alone.flagged and alone.counted == 3
    assert "12 posts in 24 h (3 counting at most 3 per author)" in alone.explanation
    assert "fewer than 8 posts" in alone.explanation and "only 1 author (5 needed)" in alone.explanation


def test_a_steady_issue_is_judged_against_its_own_level() -> None:
    history = [5, 7, 6, 4, 8, 6, 5, 7, 6, 6, 5, 7, 6, 6]
    ordinary = assess_issue("iss-1", history, posts=9, authors=9, new=False)
    assert not ordinary.flagged and ordinary.expected == pytest.approx(6.0)
    assert ordinary.explanation.endswith("within the normal range")
    surge = assess_issue("iss-1", history, posts=40, authors=31, new=False)
    assert surge.flagged and surge.status == "spiking" and surge.ratio == pytest.approx(40 / 6)
    variance = (6.0 + Baseline().excess * 36.0) * (1 + 1 / 14)
    assert surge.p_value == pytest.approx(upper_tail(40, 6.0, variance))
    assert surge.spread == pytest.approx(variance**0.5)


def test_a_past_burst_does_not_raise_the_bar_for_good() -> None:
    history = [2] * 20 + [60] + [2] * 6
    assert winsorised_mean(history) < 2.5 < sum(history) / len(history)
    assert assess_issue("iss-1", history, posts=12, authors=12, new=False).flagged


def test_the_brand_week_shapes_every_issue() -> None:
    # Complaints double on the current window's weekday (every 7th window back).
    totals = [40.0 if (28 - j) % 7 == 0 else 20.0 for j in range(28)]
    baseline = brand_baseline(totals, {}, PARAMS)
    assert 1.5 < baseline.season < 2.0 and baseline.note.startswith("this time of the week x1.")
    monday = assess_issue("iss-1", [4] * 28, posts=12, authors=12, new=False, baseline=baseline)
    plain = assess_issue("iss-1", [4] * 28, posts=12, authors=12, new=False)
    assert monday.expected == pytest.approx(4 * baseline.season) and monday.p_value > plain.p_value
    assert "this time of the week x1." in monday.explanation


def test_the_excess_variance_is_pooled_over_the_brand_issues() -> None:
    calm = {f"iss-{i}": [10, 10, 10, 10, 10, 10, 10, 10] for i in range(4)}
    assert brand_baseline([], calm, PARAMS).excess == 0.0
    wild = {f"iss-{i}": [2, 18, 5, 15, 1, 19, 10, 10] for i in range(4)}
    variance = statistics.variance([2, 18, 5, 15, 1, 19, 10, 10])
    assert brand_baseline([], wild, PARAMS).excess == pytest.approx((variance - 10) / 10**2)
    few = {"iss-1": [2, 18, 5, 15, 1, 19, 10, 10]}
    assert brand_baseline([], few, PARAMS).excess == Baseline().excess  # too few issues to say


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="p_threshold"):
        TrendParams(p_threshold=1.5)
    assert TrendParams(window_hours=24).windows_per_week == 7 and TrendParams(window_hours=5).windows_per_week is None
