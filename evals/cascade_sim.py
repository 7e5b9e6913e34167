"""Simulated reshare cascades in named regimes, for fitting and testing spread forecasts.

A marked Hawkes process simulated generation by generation (all cascades at once):
event ``i`` with ``n_i`` followers begets Poisson(``p * n_i``) children, each after a
delay drawn from a SEISMIC-shaped kernel (flat up to ``s0``, power-law tail with
exponent ``theta``) and kept with probability ``exp(-t / tau)`` (content goes stale).
Every cascade draws its own ``s0``, ``theta``, initial branching ``m0 = p * E[n]``,
``tau`` and follower spread, from ranges that depend on the regime:

- ``fast``: Twitter-like retweet cascades, reaction times of minutes
  (s0 60 s .. 10 min), log-normal follower counts (sigma 1.2 .. 2.0).
- ``slow``: news-like cascades whose reactions come over hours (s0 1 h .. 12 h),
  mostly small (m0 mostly below 0.6): at 2 h the median cascade has shown a handful
  of its events.
- ``trees``: rumour reply/retweet trees without follower counts (every event is
  marked 1 in the file, though the simulated audience still varies), s0 5 .. 60 min.

No data from anywhere else is used; the regimes are there so that a forecast fitted
on one can be tested on another.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from reputation.spread.seismic import FloatArray, IntArray

HORIZON_SECONDS = 30 * 86400.0
MAX_EVENTS = 100_000
BoolArray = np.ndarray[tuple[int], np.dtype[np.bool_]]


@dataclass(frozen=True)
class Regime:
    s0_seconds: tuple[float, float]
    theta: tuple[float, float]
    branching_mix: tuple[tuple[float, float, float], ...]  # (share, low m0, high m0)
    tau_seconds: tuple[float, float]
    mark_sigma: tuple[float, float]
    root_boost: tuple[float, float]  # log10 of root followers / mean followers
    marks_known: bool = True


REGIMES: dict[str, Regime] = {
    "fast": Regime(
        s0_seconds=(60.0, 600.0),
        theta=(0.2, 0.6),
        branching_mix=((0.3, 0.05, 0.5), (0.55, 0.5, 0.9), (0.15, 0.9, 1.3)),
        tau_seconds=(6 * 3600.0, 10 * 86400.0),
        mark_sigma=(1.2, 2.0),
        root_boost=(0.5, 3.0),
    ),
    "slow": Regime(
        s0_seconds=(3600.0, 12 * 3600.0),
        theta=(0.3, 1.0),
        branching_mix=((0.6, 0.05, 0.4), (0.35, 0.4, 0.8), (0.05, 0.8, 1.1)),
        tau_seconds=(12 * 3600.0, 10 * 86400.0),
        mark_sigma=(1.2, 2.2),
        root_boost=(0.5, 2.0),
    ),
    "trees": Regime(
        s0_seconds=(300.0, 3600.0),
        theta=(0.2, 0.8),
        branching_mix=((0.3, 0.1, 0.5), (0.55, 0.5, 0.9), (0.15, 0.9, 1.2)),
        tau_seconds=(6 * 3600.0, 5 * 86400.0),
        mark_sigma=(0.8, 1.6),
        root_boost=(1.0, 3.0),
        marks_known=False,
    ),
}


@dataclass(frozen=True)
class Simulated:
    times: FloatArray  # flat, root first in each cascade
    marks: FloatArray  # follower counts as a file would show them (1.0 when unknown)
    lengths: IntArray
    final: IntArray  # reshares by the horizon, root excluded
    truncated: BoolArray

    def cascade(self, index: int) -> tuple[FloatArray, FloatArray]:
        start = int(self.lengths[:index].sum())
        stop = start + int(self.lengths[index])
        return self.times[start:stop], self.marks[start:stop]


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], count: int) -> FloatArray:
    return rng.uniform(bounds[0], bounds[1], count)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], count: int) -> FloatArray:
    return np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]), count))


def simulate_regime(name: str, count: int, seed: int) -> Simulated:
    """``count`` cascades of regime ``name`` (see the module docstring)."""
    regime = REGIMES[name]
    rng = np.random.default_rng(seed)
    s0 = _log_uniform(rng, regime.s0_seconds, count)
    theta = _uniform(rng, regime.theta, count)
    pick = rng.random(count)
    m0 = np.zeros(count)
    edge = 0.0
    for share, low, high in regime.branching_mix:
        chosen = (pick >= edge) & (pick < edge + share)
        m0[chosen] = rng.uniform(low, high, int(chosen.sum()))
        edge += share
    tau = _log_uniform(rng, regime.tau_seconds, count)
    sigma = _uniform(rng, regime.mark_sigma, count)
    mean_mark = 100.0 * np.exp(sigma**2 / 2)  # log-normal with median 100
    p0 = m0 / mean_mark
    root_marks = mean_mark * 10 ** _uniform(rng, regime.root_boost, count)

    grown = branch(
        rng,
        p0,
        tau,
        root_marks,
        delays=lambda child_seg: kernel_delays(rng, s0[child_seg], theta[child_seg], child_seg.size),
        follower_marks=lambda seg: rng.lognormal(math.log(100.0), sigma[seg]),
    )
    return grown if regime.marks_known else replace(grown, marks=np.ones(grown.marks.size))


def branch(
    rng: np.random.Generator,
    p0: FloatArray,
    tau: FloatArray,
    root_marks: FloatArray,
    *,
    delays: Callable[[IntArray], FloatArray],
    follower_marks: Callable[[IntArray], FloatArray],
    horizon: float = HORIZON_SECONDS,
) -> Simulated:
    """Grow cascades from their roots (time 0, `root_marks` followers) generation by generation, all at once.

    Cascade ``c``'s event with ``n`` followers begets Poisson(``p0[c] * n``)
    children, each after ``delays(child cascades)`` and kept with probability
    ``exp(-t / tau[c])`` if before `horizon`; ``follower_marks(cascades)`` gives
    the new events' followers. A cascade reaching ``MAX_EVENTS`` stops growing
    (``truncated``). The random draws come in the same order every generation, so
    a seed gives the same cascades to every caller.
    """
    count = p0.size
    seg_parts, time_parts, mark_parts = [np.arange(count)], [np.zeros(count)], [root_marks]
    sizes = np.zeros(count, dtype=np.int64)
    truncated = np.zeros(count, dtype=bool)
    seg, times, marks = seg_parts[0], time_parts[0], mark_parts[0]
    while seg.size:
        children = rng.poisson(p0[seg] * marks)
        child_seg = np.repeat(seg, children)
        child_time = np.repeat(times, children) + delays(child_seg)
        alive = (child_time <= horizon) & (rng.random(child_seg.size) < np.exp(-child_time / tau[child_seg]))
        child_seg, child_time = child_seg[alive], child_time[alive]
        sizes += np.bincount(child_seg, minlength=count)
        truncated |= sizes >= MAX_EVENTS
        go_on = ~truncated[child_seg]
        seg, times = child_seg[go_on], child_time[go_on]
        marks = follower_marks(seg)
        seg_parts.append(seg)
        time_parts.append(times)
        mark_parts.append(marks)
    all_seg = np.concatenate(seg_parts)
    all_times = np.concatenate(time_parts)
    order = np.lexsort((all_times, all_seg))  # the root (time 0, first part) stays first
    lengths = np.bincount(all_seg, minlength=count).astype(np.int64)
    return Simulated(
        times=all_times[order],
        marks=np.concatenate(mark_parts)[order],
        lengths=lengths,
        final=lengths - 1,
        truncated=truncated,
    )


def kernel_delays(rng: np.random.Generator, s0: FloatArray | float, theta: FloatArray | float, size: int) -> FloatArray:
    """Kernel draws: uniform on (0, s0] with mass theta / (1 + theta), Pareto beyond (per event or one for all)."""
    flat = rng.random(size) < theta / (1.0 + theta)
    uniform = rng.random(size) * s0
    pareto = s0 * (1.0 - rng.random(size)) ** (-1.0 / theta)
    return np.where(flat, uniform, pareto)
