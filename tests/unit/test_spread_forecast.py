"""The blended spread forecast: fitting a prior, shrinking, intervals, the uncertain flag, wording."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.digest.records import SpreadLine
from alerts.digest.summary import spread_line
from reputation.spread.forecast import UNCERTAIN_SPREAD, describe, forecast
from reputation.spread.prior import ANY_PLATFORM, ANY_TEMPO, Prior, Samples, cell_index, fit, recent_share, shipped

HOUR = 3600.0
STEADY = np.array([0.3])  # a share of events in the second half of the age


def _samples(observed: np.ndarray, final: np.ndarray, seismic: np.ndarray, platform: str = "x") -> Samples:
    return Samples(
        platform=[platform] * observed.size,
        age_seconds=np.full(observed.size, HOUR),
        observed=observed.astype(np.float64),
        recent=np.full(observed.size, 0.3),
        seismic_final=seismic.astype(np.float64),
        final=final.astype(np.float64),
    )


def test_with_little_evidence_history_wins_over_a_runaway_seismic() -> None:
    rng = np.random.default_rng(7)
    observed = np.full(400, 2.0)
    final = np.round(np.exp(rng.normal(np.log(20.0), 0.4, 400)))  # history: ~10x growth
    seismic = np.exp(rng.uniform(np.log(2.0), np.log(40.0), 400))  # SEISMIC: noise, unrelated to the final
    prior = fit(_samples(observed, final, seismic))
    cell = prior.lookup("x", *cell_index(HOUR, 2.0, 0.3))
    assert cell is not None and cell.weight <= 0.2  # SEISMIC carried no information here
    result = forecast(prior, ["x"], np.array([HOUR]), np.array([2.0]), STEADY, np.array([40.0]))
    assert 14 <= result.predicted_final[0] <= 26  # not SEISMIC's 40
    assert cell.error < cell.naive_error


def test_where_seismic_is_right_it_earns_the_weight() -> None:
    rng = np.random.default_rng(8)
    observed = np.full(400, 30.0)
    final = np.round(np.exp(rng.uniform(np.log(35.0), np.log(600.0), 400)))
    seismic = final * np.exp(rng.normal(0.0, 0.05, 400))
    prior = fit(_samples(observed, final, seismic))
    cell = prior.lookup("x", *cell_index(HOUR, 30.0, 0.3))
    assert cell is not None and cell.weight >= 0.9
    result = forecast(prior, ["x"], np.array([HOUR]), np.array([30.0]), STEADY, np.array([300.0]))
    assert result.predicted_final[0] == pytest.approx(300.0, rel=0.1)


def test_the_interval_holds_about_as_often_as_it_says_on_fresh_cascades_like_the_history() -> None:
    rng = np.random.default_rng(9)

    def draw(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        observed = rng.integers(5, 8, count).astype(np.float64)
        growth = rng.lognormal(0.5, 0.6, count)
        final = np.round((observed + 1) * np.exp(growth) - 1)
        seismic = (observed + 1) * np.exp(growth + rng.normal(0, 0.5, count)) - 1
        return observed, final, seismic

    history = _samples(*draw(3000))
    exact = fit(history, quantile_level=0.9)  # no margin: the residual quantiles at the level claimed
    observed, final, seismic = draw(3000)
    result = forecast(exact, ["x"] * 3000, np.full(3000, HOUR), observed, np.full(3000, 0.3), seismic)
    inside = (result.low <= final) & (final <= result.high)
    assert abs(inside.mean() - 0.9) < 0.03
    # The default keeps a margin for cascades unlike the history: on like ones it holds a little more often.
    result = forecast(fit(history), ["x"] * 3000, np.full(3000, HOUR), observed, np.full(3000, 0.3), seismic)
    wider = (result.low <= final) & (final <= result.high)
    assert fit(history).level == 0.9 and 0.9 < wider.mean() < 0.97
    assert np.all(result.low <= result.predicted_final) and np.all(result.predicted_final <= result.high)
    assert np.all(result.low >= observed)


def test_where_nothing_beats_no_growth_the_forecast_is_no_growth() -> None:
    observed = np.full(100, 50.0)
    seismic = np.full(100, 500.0)
    prior = fit(_samples(observed, observed.copy(), seismic))  # these cascades never grew again
    result = forecast(prior, ["x"], np.array([HOUR]), np.array([50.0]), STEADY, np.array([500.0]))
    assert result.predicted_final[0] == 50.0 and result.low[0] == 50.0


def test_without_a_cell_the_forecast_is_naive_and_uncertain() -> None:
    empty = Prior(level=0.9, max_ratio=20.0)
    result = forecast(empty, ["x"], np.array([HOUR]), np.array([3.0]), STEADY, np.array([300.0]))
    assert result.predicted_final[0] == 3.0
    assert bool(result.uncertain[0])
    assert (result.low[0], result.high[0]) == (3.0, 60.0)


def test_platform_cells_come_first_and_any_platform_is_the_fallback() -> None:
    rng = np.random.default_rng(10)
    observed = np.full(200, 10.0)
    reddit = _samples(observed, np.full(200, 11.0), observed + rng.random(200), platform="reddit")
    prior = fit(reddit)
    index = cell_index(HOUR, 10.0, 0.3)
    assert prior.lookup("reddit", *index) is prior.cells[("reddit", *index)]
    assert prior.lookup("x", *index) is prior.cells[(ANY_PLATFORM, *index)]
    stalled = cell_index(HOUR, 10.0, 0.0)  # no samples at that tempo: the cell of any tempo
    assert prior.lookup("reddit", *stalled) is prior.cells[("reddit", *index[:2], ANY_TEMPO)]
    assert Prior.from_json(prior.to_json()) == prior


def test_the_shipped_prior_loads_and_flags_loose_forecasts() -> None:
    prior = shipped()
    assert prior.level == 0.9 and len(prior.cells) > 50
    ages, recent = np.full(2, 2 * HOUR), np.full(2, 0.3)
    result = forecast(prior, ["x"] * 2, ages, np.array([2.0, 300.0]), recent, np.array([2.0, 400.0]))
    loose = (result.high + 1) > UNCERTAIN_SPREAD * (result.low + 1)
    assert list(result.uncertain) == list(loose)
    assert result.predicted_final[0] < 2 * 20  # a handful of events never yields a runaway number


def test_wording_shows_a_range_and_only_the_range_when_uncertain() -> None:
    assert describe(80.0, 61.0, 1204.0, False, 0.9) == "80 (90% range 61\u20131,204)"
    assert describe(80.0, 61.0, 1204.0, True, 0.9) == "uncertain, 61\u20131,204 (90% range)"
    assert describe(80.0, None, None, None, 0.9) == "80"
    assert describe(None, None, None, None, 0.9) == ""
    line = SpreadLine("x", "maya", "text", None, 12, 3, 9, 0, 0.5, 40.0, 20.0, 150.0, True)
    assert spread_line(line).endswith("predicted uncertain, 20\u2013150 (90% range)")


def test_recent_share_counts_the_second_half_of_the_age() -> None:
    assert recent_share([60.0, 1000.0, 2000.0, 3000.0, 9000.0, -5.0], HOUR) == 0.5  # 9000 s not seen yet
    assert recent_share([], HOUR) == 0.0
    rising = cell_index(HOUR, 4.0, recent_share([1900.0, 2500.0, 3000.0, 3500.0], HOUR))
    stalled = cell_index(HOUR, 4.0, recent_share([10.0, 20.0, 30.0, 40.0], HOUR))
    assert rising[:2] == stalled[:2] and rising[2] > stalled[2]
