"""Final cascade sizes that lean on history when a cascade has shown little.

SEISMIC (:mod:`reputation.spread.seismic`) extrapolates from the events seen so far; with two
events at two hours it swings far off.  Here its growth estimate is blended with the
growth that cascades of the same age and size (and platform) actually showed:

    y = log((final + 1) / (observed + 1))            growth, in logs
    s = log((seismic_final + 1) / (observed + 1))    SEISMIC's estimate of y
    blend = w * s + (1 - w) * h + d

per cell (platform, age bin, observed-size bin, tempo) of a :class:`~reputation.spread.prior.Prior`,
where ``h`` is the median growth in the cell's history, ``w`` the weight SEISMIC earned
there (in the shipped prior 0 to 0.3 up to 4 events, mostly 0.3 to 1 beyond) and ``d`` the
shift that makes the point forecast best in median relative error.  ``w`` and ``d``
are fitted per cell; the naive forecast "no further growth" is one of the candidates,
so in every cell the forecast is at least as good as naive on the history it was fitted
on.  The interval is the blend plus the cell's residual quantiles (split-conformal
style), taken a little wider than the level it claims
(:data:`~reputation.spread.prior.QUANTILE_LEVEL`) so that it still holds about as
often as it says on cascades somewhat unlike the history.

``uncertain`` is set where the cell's forecast was typically off by more than
:data:`UNCERTAIN_ERROR` on its history, where the interval spans more than a factor
:data:`UNCERTAIN_SPREAD`, or where no cell has enough history (then the forecast is
naive: the observed count, with the interval up to ``max_ratio`` times it).  An
uncertain forecast keeps its cell's median-error optimum as the number; alerts act only
on its low end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reputation.spread.prior import Cell, Prior, cell_index
from reputation.spread.seismic import BoolArray, FloatArray

UNCERTAIN_ERROR = 0.5  # median relative error above which a forecast is flagged
UNCERTAIN_SPREAD = 6.0  # (high + 1) / (low + 1) of the interval above which it is flagged


@dataclass(frozen=True)
class Forecast:
    predicted_final: FloatArray
    low: FloatArray
    high: FloatArray
    uncertain: BoolArray
    level: float


def blend_log_growth(cell: Cell, seismic_growth: FloatArray) -> FloatArray:
    """The cell's point forecast of ``log((final + 1) / (observed + 1))``."""
    return cell.weight * seismic_growth + (1.0 - cell.weight) * cell.history + cell.shift


def forecast(
    prior: Prior,
    platforms: list[str],
    age_seconds: FloatArray,
    observed: FloatArray,
    recent: FloatArray,
    seismic_final: FloatArray,
) -> Forecast:
    """Blend SEISMIC's finals with the prior's history, one cascade per entry (``recent``: see
    :func:`~reputation.spread.prior.recent_share`)."""
    count = observed.size
    observed = observed.astype(np.float64)
    predicted = observed.copy()
    low = observed.copy()
    high = np.maximum(observed, 1.0) * prior.max_ratio
    uncertain = np.ones(count, dtype=bool)
    growth = np.log((np.maximum(seismic_final, observed) + 1.0) / (observed + 1.0))
    groups: dict[tuple[str, int, int, int], list[int]] = {}
    for i in range(count):  # cascades that share a cell are forecast together
        key = (platforms[i], *cell_index(float(age_seconds[i]), float(observed[i]), float(recent[i])))
        groups.setdefault(key, []).append(i)
    for (platform, *index), rows in groups.items():
        cell = prior.lookup(platform, *index)
        if cell is None:  # no history fits: naive, uncertain, the interval up to max_ratio times
            continue
        at = np.array(rows)
        seen = observed[at]
        center = blend_log_growth(cell, growth[at])
        base = seen + 1.0
        point = np.maximum(base * np.exp(center) - 1.0, seen)
        # Sizes are whole numbers: the interval's ends are too (rounded outward).
        bottom = np.minimum(np.maximum(np.floor(base * np.exp(center + cell.low) - 1.0), seen), point)
        # Below the history's smallest final size, the cascade may never get there.
        bottom = np.where(seen < prior.min_final, seen, bottom)
        top = np.maximum(np.ceil(base * np.exp(center + cell.high) - 1.0), point)
        predicted[at], low[at], high[at] = point, bottom, top
        uncertain[at] = (cell.error > UNCERTAIN_ERROR) | (top + 1.0 > UNCERTAIN_SPREAD * (bottom + 1.0))
    return Forecast(predicted_final=predicted, low=low, high=high, uncertain=uncertain, level=prior.level)


def describe(final: float | None, low: float | None, high: float | None, uncertain: bool | None, level: float) -> str:
    """How alerts and the digest word a forecast: the range, not one number ("" when there is none)."""
    if final is None:
        return ""
    if low is None or high is None:  # stored before forecasts had intervals
        return f"{final:,.0f}"
    span = f"{low:,.0f}\u2013{high:,.0f}"
    if uncertain:
        return f"uncertain, {span} ({level:.0%} range)"
    return f"{final:,.0f} ({level:.0%} range {span})"
