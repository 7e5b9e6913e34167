"""Build the prior shipped in ``reputation/spread/prior.json``.

Run ``python -m evals.spread_prior`` (about a minute).  It simulates cascades of
every regime of :mod:`evals.cascade_sim` (seeds below, fixed), keeps those that end
with at least ``MIN_FINAL`` reshares and did not hit the simulation's cap, looks at
each at the ages ``AGES_HOURS`` and fits :func:`reputation.spread.prior.fit` on the
even-numbered cascades; the odd-numbered ones are left for ``python -m
evals.spread_eval`` to score.  ``--check`` rebuilds and compares with the shipped
file instead of writing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from evals.cascade_sim import REGIMES, Simulated, simulate_regime
from reputation.spread.prior import ANY_PLATFORM, QUANTILE_LEVEL, Prior, Samples, fit
from reputation.spread.seismic import predict_flat

AGES_HOURS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0, 72.0)
MIN_FINAL = 10
COUNT = {"fast": 6000, "slow": 24000, "trees": 6000}  # slow cascades are mostly tiny: more are needed
SEEDS = {"fast": 101, "slow": 202, "trees": 303}
SHIPPED = Path(__file__).resolve().parents[1] / "reputation" / "spread" / "prior.json"


def usable(sim: Simulated) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    return np.flatnonzero(~sim.truncated & (sim.final >= MIN_FINAL)).astype(np.int64)


def subset(sim: Simulated, chosen: np.ndarray[tuple[int], np.dtype[np.int64]]) -> Simulated:
    starts = np.concatenate([[0], np.cumsum(sim.lengths)[:-1]])
    rows = np.concatenate([np.arange(starts[i], starts[i] + sim.lengths[i]) for i in chosen])
    return Simulated(
        times=sim.times[rows],
        marks=sim.marks[rows],
        lengths=sim.lengths[chosen],
        final=sim.final[chosen],
        truncated=sim.truncated[chosen],
    )


def recent_shares(sim: Simulated, hours: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    """:func:`reputation.spread.prior.recent_share` of every cascade of ``sim`` at ``hours``."""
    age = hours * 3600.0
    seg = np.repeat(np.arange(sim.lengths.size), sim.lengths)
    starts = np.concatenate([[0], np.cumsum(sim.lengths)[:-1]])
    event = np.ones(sim.times.size, dtype=bool)
    event[starts] = False  # the roots
    seen = event & (sim.times >= 0) & (sim.times <= age)
    late = np.bincount(seg[seen & (sim.times > age / 2)], minlength=sim.lengths.size)
    return (late / np.maximum(np.bincount(seg[seen], minlength=sim.lengths.size), 1)).astype(np.float64)


def samples_at(sim: Simulated, ages_hours: tuple[float, ...], platform: str = ANY_PLATFORM) -> Samples:
    """Every cascade of ``sim`` seen at every age, with SEISMIC's prediction then."""
    parts = []
    for hours in ages_hours:
        batch = predict_flat(sim.times, sim.marks, sim.lengths, hours * 3600.0)
        ages = np.full(sim.lengths.size, hours * 3600.0)
        parts.append((ages, batch.observed.astype(np.float64), batch.predicted_final))
    return Samples(
        platform=[platform] * (sim.lengths.size * len(ages_hours)),
        age_seconds=np.concatenate([p[0] for p in parts]),
        observed=np.concatenate([p[1] for p in parts]),
        recent=np.concatenate([recent_shares(sim, hours) for hours in ages_hours]),
        seismic_final=np.concatenate([p[2] for p in parts]),
        final=np.tile(sim.final.astype(np.float64), len(ages_hours)),
    )


def merge(parts: list[Samples]) -> Samples:
    return Samples(
        platform=[p for part in parts for p in part.platform],
        age_seconds=np.concatenate([part.age_seconds for part in parts]),
        observed=np.concatenate([part.observed for part in parts]),
        recent=np.concatenate([part.recent for part in parts]),
        seismic_final=np.concatenate([part.seismic_final for part in parts]),
        final=np.concatenate([part.final for part in parts]),
    )


def split(regime: str) -> tuple[Simulated, Simulated]:
    """(fit half, held-out half) of a regime's usable cascades."""
    sim = simulate_regime(regime, COUNT[regime], SEEDS[regime])
    kept = usable(sim)
    return subset(sim, kept[0::2]), subset(sim, kept[1::2])


def build() -> Prior:
    parts = [samples_at(split(regime)[0], AGES_HOURS) for regime in REGIMES]
    counts = ", ".join(f"{name} {COUNT[name]} (seed {SEEDS[name]})" for name in REGIMES)
    source = (
        f"simulated cascades, evals/cascade_sim.py: {counts}; even-numbered cascades with final >= {MIN_FINAL};"
        f" residual quantiles at {QUANTILE_LEVEL}"
    )
    return fit(merge(parts), min_final=MIN_FINAL, source=source)


def main() -> None:
    prior = build()
    text = prior.to_json()
    if "--check" in sys.argv[1:]:
        same = SHIPPED.exists() and SHIPPED.read_text(encoding="utf-8") == text
        print("shipped prior is up to date" if same else "shipped prior differs from a rebuild")
        raise SystemExit(0 if same else 1)
    SHIPPED.write_text(text, encoding="utf-8")
    print(f"wrote {SHIPPED} ({len(prior.cells)} cells)")


if __name__ == "__main__":
    main()
