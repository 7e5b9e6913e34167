import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.seismic_eval import MARK_MEAN, simulate, spearman
from reputation.cli.cascade_csv import predict_csv
from reputation.errors import InputError
from reputation.spread.forecast import Forecast, forecast
from reputation.spread.prior import recent_share, shipped
from reputation.spread.seismic import (
    Prediction,
    SeismicParams,
    cascade_stats,
    kernel_survival,
    predict,
    predict_flat,
    predict_from_stats,
    predict_many,
)

HOUR = 3600.0


def _phi(s: np.ndarray, params: SeismicParams) -> np.ndarray:
    c = params.kernel_constant
    return np.where(s <= params.s0_seconds, c, c * (np.maximum(s, 1.0) / params.s0_seconds) ** -(1 + params.theta))


def test_kernel_is_normalised_and_matches_the_paper() -> None:
    params = SeismicParams()
    assert params.kernel_constant == pytest.approx(6.49e-4, rel=1e-3)
    grid = np.linspace(0, 50_000, 2_000_001)
    numeric = np.trapezoid(_phi(grid, params), grid)
    assert 1 - kernel_survival(np.array([50_000.0]), params)[0] == pytest.approx(numeric, rel=1e-5)
    survival = kernel_survival(np.array([0.0, 300.0, 1e12]), params)
    assert survival[0] == 1.0
    assert survival[1] == pytest.approx(1 / 1.242)
    assert survival[2] < 1e-2


def test_window_exposure_matches_numerical_integral() -> None:
    # One root with 1 follower at time 0: the exposure is its triangular-window integral.
    params = SeismicParams()
    t = 3 * HOUR
    width = 0.5 * t
    stats = cascade_stats([0.0], [1.0], [1], t, replace(params, n_star=1.0))
    grid = np.linspace(t - width, t, 400_001)
    numeric = np.trapezoid((1 - (t - grid) / width) * _phi(grid, params), grid)
    assert stats.exposure[0] == pytest.approx(numeric, rel=1e-5)


def test_observed_counts_exclude_root_and_future_events() -> None:
    result = predict([0, 10, 20, 30, 3600, 3601, 9000], [100, 1, 2, 3, 4, 5, 6], HOUR)
    assert result.observed == 4
    assert result.predicted_final >= 4
    assert result.dropped == 0


def test_unsorted_input_gives_the_same_prediction() -> None:
    times = [0, 50, 10, 400, 30, 2000]
    followers = [500, 5, 1, 40, 3, None]
    order = [0, 2, 4, 1, 3, 5]
    shuffled = predict(times, followers, HOUR)
    ordered = predict([times[i] for i in order], [followers[i] for i in order], HOUR)
    assert shuffled == ordered


def test_duplicates_are_kept() -> None:
    once = predict([0, 10, 20], [100, 5, 5], HOUR)
    twice = predict([0, 10, 20, 20], [100, 5, 5, 5], HOUR)
    assert (once.observed, twice.observed) == (2, 3)


def test_negative_and_non_finite_times_are_dropped_and_counted() -> None:
    result = predict([0, -5, 10, math.nan, -1, math.inf], [100, 1, 2, 3, 4, 5], HOUR)
    assert result.observed == 1
    assert result.dropped == 4
    assert result == replace(predict([0, 10], [100, 2], HOUR), dropped=4)


def test_missing_followers_take_the_cascade_median() -> None:
    filled = predict([0, 10, 20, 30, 40], [10, None, 30, 1000, None], HOUR)
    explicit = predict([0, 10, 20, 30, 40], [10, 30, 30, 1000, 30], HOUR)
    assert filled == explicit
    # Shorter followers list: the tail is unknown.
    assert predict([0, 10, 20, 30, 40], [10, 30, 30, 1000], HOUR) == explicit


def test_without_follower_counts_every_event_has_the_same_mark() -> None:
    times = [0, 10, 20, 300, 900]
    unknown = predict(times, [None] * 5, HOUR)
    assert unknown == predict(times, [1.0] * 5, HOUR)
    # With n_star taken from the cascade the marks' unit does not matter.
    assert unknown.predicted_final == pytest.approx(predict(times, [7.0] * 5, HOUR).predicted_final)
    scaled = predict(times, [500, 3, 40, 8, 1200], HOUR)
    assert scaled.predicted_final == pytest.approx(predict(times, [5000, 30, 400, 80, 12000], HOUR).predicted_final)


def test_root_only_uses_the_prior() -> None:
    params = SeismicParams()
    at_post = predict([0], [1000], 0.0)
    # Nothing seen yet: expected future = alpha * m0 / (1 - gamma * m0) (the root's mark is n*).
    m0 = params.prior_branching
    assert at_post.predicted_final == pytest.approx(params.alpha * m0 / (1 - params.gamma * m0))
    assert at_post.observed == 0
    later = predict([0], [1000], 6 * HOUR)
    assert 0 <= later.predicted_final < at_post.predicted_final  # silence lowers p
    assert later.interval[0] == 0 <= later.predicted_final <= later.interval[1]


@pytest.mark.parametrize("observe", [0.0, -10.0, math.nan])
def test_observe_at_or_before_the_post(observe: float) -> None:
    result = predict([0, 0, 5, 10], [100, 2, 3, 4], observe)
    assert result.observed == 1  # only the reshare at time 0
    assert math.isfinite(result.predicted_final)
    assert result.interval[0] >= 1


def test_empty_and_junk_input_do_not_crash() -> None:
    empty = predict([], [], HOUR)
    assert (empty.observed, empty.predicted_final, empty.interval, empty.supercritical) == (0, 0.0, (0.0, 0.0), False)
    junk = predict([0, "x", 10, None], ["a", -3, None], HOUR)  # type: ignore[list-item]
    assert junk.observed == 1
    assert junk.dropped == 2


def test_supercritical_is_flagged_and_capped() -> None:
    params = SeismicParams()
    times = [0.0, *np.linspace(1, 120, 200).tolist()]  # 200 reshares in two minutes from tiny accounts
    result = predict(times, [1.0] * 201, 150.0, params)
    assert result.supercritical
    assert result.observed == 200
    assert result.predicted_final == params.max_final_ratio * 200
    assert result.interval[0] >= 200
    assert result.interval[1] == result.predicted_final


def test_supercritical_flag_follows_gamma_p_n_star() -> None:
    params = SeismicParams(n_star=50.0)
    rng = np.random.default_rng(3)
    flags = set()
    for _ in range(200):
        size = int(rng.integers(1, 40))
        span = float(rng.uniform(60, 4 * HOUR))
        times = [0.0, *np.sort(rng.uniform(0, span, size)).tolist()]
        followers = rng.lognormal(3, 1.5, size + 1).tolist()
        result = predict(times, followers, span, params)
        assert result.supercritical == (params.gamma * result.infectiousness * 50.0 >= 1)
        flags.add(result.supercritical)
        if not result.supercritical:
            assert result.predicted_final <= params.max_final_ratio * max(result.observed, 1)
    assert flags == {True, False}


def test_predict_many_matches_predict() -> None:
    cascades: list[tuple[list[float], list[float | None]]] = [
        ([0, 5, 60], [10, 2, None]),
        ([0], [3]),
        ([], []),
        ([0, -1, 30, 7200], [None, 4, 5, 6]),
    ]
    many = predict_many(cascades, HOUR)
    assert many == [predict(times, followers, HOUR) for times, followers in cascades]
    per_cascade = predict_many(cascades, [HOUR, 0.0, HOUR, 2 * HOUR])
    assert per_cascade[3] == predict(*cascades[3], 2 * HOUR)


@pytest.mark.filterwarnings("error")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(min_value=-100, max_value=1e6), st.just(math.nan)),
            st.one_of(st.none(), st.just(math.nan), st.floats(min_value=-5, max_value=1e8)),
        ),
        max_size=30,
    ),
    st.floats(min_value=-10, max_value=1e6),
)
def test_invariants_hold_for_any_input(rows: list[tuple[float, float | None]], observe: float) -> None:
    result = predict([row[0] for row in rows], [row[1] for row in rows], observe)
    low, high = result.interval
    assert result.observed <= low <= result.predicted_final <= high
    assert math.isfinite(high)
    assert 0 <= result.infectiousness < math.inf


def test_known_infectiousness_is_recovered() -> None:
    # Constant infectiousness, no decay: the model is exactly right, so the uncorrected
    # formula (alpha = gamma = 1, the true n*) must be unbiased up to noise.
    sim = simulate(count=400, seed=11, branching=0.6, decay_seconds=math.inf, horizon=math.inf)
    params = SeismicParams(n_star=MARK_MEAN, alpha=1.0, gamma=1.0, prior_strength=0.5, max_window_seconds=1e9)
    stats = cascade_stats(sim.times, sim.marks, sim.lengths, 6 * HOUR, params)
    batch = predict_from_stats(stats, params)
    big = sim.final >= 20
    assert stats.weighted_count[big].sum() / stats.exposure[big].sum() == pytest.approx(0.6, abs=0.05)
    assert 0.5 < np.median(batch.infectiousness[big] * MARK_MEAN) < 0.7
    assert 0.8 < np.median(batch.predicted_final[big] / sim.final[big]) < 1.25
    inside = (batch.low <= sim.final) & (sim.final <= batch.high)
    assert inside.mean() > 0.8


def test_defaults_beat_no_growth_on_simulated_cascades() -> None:
    sim = simulate(count=800, seed=5)
    batch = predict_flat(sim.times, sim.marks, sim.lengths, 2 * HOUR)
    keep = (sim.final >= 20) & ~sim.truncated
    truth = sim.final[keep]
    error = np.median(np.abs(batch.predicted_final[keep] - truth) / truth)
    baseline = np.median(np.abs(batch.observed[keep] - truth) / truth)
    assert error < 0.25
    assert error < 0.6 * baseline
    assert spearman(batch.predicted_final[keep], truth.astype(float)) > 0.9


def test_spearman() -> None:
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1.0)
    assert spearman(np.array([1.0, 1, 2]), np.array([1.0, 2, 3])) == pytest.approx(0.8660254)


def test_ten_thousand_cascades_are_fast() -> None:
    rng = np.random.default_rng(1)
    cascades = [
        ([0.0, *np.sort(rng.uniform(0, HOUR, 49)).tolist()], rng.lognormal(4.6, 1.6, 50).tolist())
        for _ in range(10_000)
    ]
    start = time.perf_counter()
    results = predict_many(cascades, HOUR)
    assert time.perf_counter() - start < 3.0  # ~0.4 s on a laptop; loose for CI
    assert len(results) == 10_000
    assert all(result.observed == 49 for result in results)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(text)
    return path


def test_predict_csv_groups_unsorted_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "cascade_id,time,followers\nb,40,\na,120,7\na,0,1000\nb,0,\na,-5,3\na,30,\nb,10,20\na,7200,9\na,60,12\n",
    )
    lines = list(predict_csv(path, HOUR))
    assert [line["cascade_id"] for line in lines] == ["b", "a"]
    assert set(lines[0]) == {
        "cascade_id",
        "observed",
        "predicted_final",
        "interval",
        "supercritical",
        "coverage_level",
        "uncertain",
    }
    by_id = {line["cascade_id"]: line for line in lines}
    assert by_id["a"]["observed"] == 3  # 120, 30, 60; -5 dropped, 7200 not yet seen
    assert by_id["b"]["observed"] == 2
    expected = _blend(predict([0, 120, -5, 30, 60], [1000, 7, 3, None, 12], HOUR), [0, 120, -5, 30, 60], HOUR)
    assert by_id["a"]["predicted_final"] == expected.predicted_final[0]
    assert by_id["a"]["interval"] == [expected.low[0], expected.high[0]]
    assert by_id["a"]["uncertain"] is bool(expected.uncertain[0])
    assert by_id["a"]["supercritical"] is predict([0, 120, 30, 60], [1000, 7, None, 12], HOUR).supercritical
    assert by_id["a"]["coverage_level"] == 0.9
    low, high = by_id["b"]["interval"]
    assert 2 <= low <= by_id["b"]["predicted_final"] <= high
    json.dumps(lines)  # the CLI prints these as JSON


def test_predict_csv_without_root_row_and_extra_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "time,followers,cascade_id,note\n5,3,x,hi\n9,,x,\n")
    (line,) = predict_csv(path, HOUR)
    assert line["observed"] == 2
    expected = _blend(predict([0, 5, 9], [None, 3, None], HOUR), [0, 5, 9], HOUR)
    assert line["predicted_final"] == expected.predicted_final[0]


def _blend(result: Prediction, times: list[float], age: float) -> Forecast:
    """What the CSV path should give for one cascade SEISMIC predicted as ``result``."""
    observed = np.array([float(result.observed)])
    recent = np.array([recent_share(times[1:], age)])
    return forecast(shipped(), ["*"], np.array([age]), observed, recent, np.array([result.predicted_final]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cascade_id,time,followers\na,0,10\na,soon,3\n", "line 3"),
        ("cascade_id,time,followers\na,0,10\n\na,nan,3\n", "line 4"),
        ("cascade_id,time,followers\na,0,many\n", "line 2"),
        ("cascade_id,time,followers\na\n", "line 2"),
        ("cascade,time,followers\na,0,1\n", "missing cascade_id"),
        ("", "missing cascade_id"),
    ],
)
def test_predict_csv_rejects_bad_rows(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(predict_csv(_write(tmp_path, text), HOUR))


def test_predict_jsonl_reads_like_the_csv(tmp_path: Path) -> None:
    csv_path = _write(tmp_path, "cascade_id,time,followers\na,0,1000\na,120,7\na,30,\nb,0,\nb,10,20\na,7200,9\n")
    events = [
        {"cascade_id": "a", "time": 0, "followers": 1000},
        {"cascade_id": "a", "time": 120, "followers": 7},
        {"cascade_id": "a", "time": 30, "followers": None},
        {"cascade_id": "b", "time": 0},
        {"cascade_id": "b", "time": 10.0, "followers": 20},
        {"cascade_id": "a", "time": 7200, "followers": 9},
    ]
    jsonl_path = tmp_path / "events.jsonl"
    jsonl_path.write_text("\n".join(json.dumps(event) for event in events) + "\n\n")
    assert list(predict_csv(jsonl_path, HOUR)) == list(predict_csv(csv_path, HOUR))
    jsonl_path.write_text('{"cascade_id": "a", "time": 0}\n[1, 2]\n')
    with pytest.raises(InputError, match="line 2"):
        list(predict_csv(jsonl_path, HOUR))
    jsonl_path.write_text('{"cascade_id": "a", "time": "soon"}\n')
    with pytest.raises(InputError, match="line 1"):
        list(predict_csv(jsonl_path, HOUR))


def test_predict_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        list(predict_csv(tmp_path / "nope.csv", HOUR))
