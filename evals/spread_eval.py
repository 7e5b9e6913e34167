"""How well the blended spread forecast (:mod:`reputation.spread.forecast`) does.

Run ``python -m evals.spread_eval`` (under a minute; fixed seeds, numpy only).

Scored on the held-out (odd-numbered) cascades of each regime of
:mod:`evals.cascade_sim`, which :mod:`evals.spread_prior` never fits on:

- ``shipped``: the prior in ``reputation/spread/prior.json`` (fitted on the other
  half of all three regimes);
- ``without X``: a prior fitted on the fit halves of the two other regimes only,
  tested on regime X (train on one source, test on another).

Per row: median relative error ``|predicted - final| / final`` of "no further growth"
(naive), SEISMIC alone and the blend; the share of final sizes inside the blend's
90 % interval (and SEISMIC's own); the share flagged uncertain.  Then the SEISMIC
example tweet cascade (``../shared/data/cascades``, read in place, 15,562 reshares).
"""

from __future__ import annotations

import time

import numpy as np

from evals.cascade_sim import REGIMES, Simulated
from evals.seismic_eval import EXAMPLE_FINAL, example_cascade
from evals.spread_prior import AGES_HOURS, MIN_FINAL, merge, recent_shares, samples_at, split
from reputation.spread.forecast import forecast
from reputation.spread.prior import Prior, fit, recent_share, shipped
from reputation.spread.seismic import predict, predict_flat

SCORED_HOURS = (1.0, 2.0, 6.0)


def score(prior: Prior, sim: Simulated, hours: float) -> dict[str, float]:
    batch = predict_flat(sim.times, sim.marks, sim.lengths, hours * 3600.0)
    observed = batch.observed.astype(np.float64)
    final = sim.final.astype(np.float64)
    ages = np.full(observed.size, hours * 3600.0)
    recent = recent_shares(sim, hours)
    result = forecast(prior, ["*"] * observed.size, ages, observed, recent, batch.predicted_final)
    inside = (result.low <= final) & (final <= result.high)
    seismic_inside = (batch.low <= final) & (final <= batch.high)
    return {
        "n": float(final.size),
        "median_observed": float(np.median(observed)),
        "median_final": float(np.median(final)),
        "naive": float(np.median((final - observed) / final)),
        "seismic": float(np.median(np.abs(batch.predicted_final - final) / final)),
        "blend": float(np.median(np.abs(result.predicted_final - final) / final)),
        "coverage": float(inside.mean()),
        "seismic_coverage": float(seismic_inside.mean()),
        "uncertain": float(result.uncertain.mean()),
    }


def _row(label: str, hours: float, s: dict[str, float]) -> str:
    return (
        f"  {label:16s} {hours:>4.0f} h  n={s['n']:>5.0f}"
        f"  obs/final {s['median_observed']:>4.0f}/{s['median_final']:<5.0f}"
        f"  naive {s['naive']:.3f}  SEISMIC {s['seismic']:.3f}  blend {s['blend']:.3f}"
        f"  coverage {s['coverage']:.2f} (SEISMIC {s['seismic_coverage']:.2f})  uncertain {s['uncertain']:.2f}"
    )


def _example(prior: Prior) -> None:
    print(f"\nSEISMIC example cascade (true final {EXAMPLE_FINAL:,} reshares):")
    data = example_cascade()
    if data is None:
        return
    for hours in SCORED_HOURS:
        seismic = predict(data[:, 0].tolist(), data[:, 1].tolist(), hours * 3600.0)
        obs = np.array([float(seismic.observed)])
        recent = np.array([recent_share(data[1:, 0].tolist(), hours * 3600.0)])
        result = forecast(prior, ["*"], np.array([hours * 3600.0]), obs, recent, np.array([seismic.predicted_final]))
        blended = float(result.predicted_final[0])
        print(
            f"  {hours:.0f} h: observed {seismic.observed:,}  SEISMIC {seismic.predicted_final:,.0f}"
            f" ({(seismic.predicted_final - EXAMPLE_FINAL) / EXAMPLE_FINAL:+.3f})  blend {blended:,.0f}"
            f" ({(blended - EXAMPLE_FINAL) / EXAMPLE_FINAL:+.3f})"
            f"  interval [{result.low[0]:,.0f}, {result.high[0]:,.0f}]  uncertain {bool(result.uncertain[0])}"
        )


def main() -> None:
    halves = {regime: split(regime) for regime in REGIMES}
    print("Held-out simulated cascades (median relative error; 90% interval coverage):")
    prior = shipped()
    for regime, (_, held_out) in halves.items():
        for hours in SCORED_HOURS:
            print(_row(f"shipped/{regime}", hours, score(prior, held_out, hours)))
    for regime, (_, held_out) in halves.items():
        others = [samples_at(halves[other][0], AGES_HOURS) for other in REGIMES if other != regime]
        without = fit(merge(others), min_final=MIN_FINAL)
        for hours in SCORED_HOURS:
            print(_row(f"without {regime}", hours, score(without, held_out, hours)))
    _example(prior)
    _timing(prior)


def _timing(prior: Prior) -> None:
    rng = np.random.default_rng(1)
    count = 10_000
    observed = rng.integers(0, 200, count).astype(np.float64)
    start = time.perf_counter()
    forecast(prior, ["x"] * count, np.full(count, 3600.0), observed, rng.random(count), observed * 3.0)
    print(f"\nTiming: the blend for 10,000 cascades (after SEISMIC): {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
