"""Final size of a reshare cascade, in the style of SEISMIC (Zhao et al., KDD 2015).

Written from the paper's formulas; no code from the authors' R package.

This is the raw model.  What ``reputation cascades predict``, the store, the alerts
and the digest show is its estimate blended with what cascades of the same age and
size went on to do (:mod:`reputation.spread.forecast`), which matters most when a
cascade has shown only a few events.

Model.  Reshares arrive as a self-exciting process: event ``i`` (the root post is
event 0) at time ``t_i`` with ``n_i`` followers raises the reshare rate by
``p * n_i * phi(t - t_i)``, where ``p`` is the post's infectiousness and
``phi`` the human reaction-time kernel

    phi(s) = c                           for 0 < s <= s0
    phi(s) = c * (s / s0) ** -(1 + theta)  for s > s0.

Normalising ``integral phi = c*s0 + c*s0/theta = 1`` gives
``c = theta / (s0 * (1 + theta))``; the paper's s0 = 300 s, theta = 0.242 give
c = 6.494e-4 per second (the paper quotes 6.49e-4).  ``Phi`` is the kernel's
integral (CDF).

Infectiousness at observation time ``t`` (the paper's kernel-weighted estimator):

    p_t = sum_{i>=1} K(t - t_i) / sum_{i>=0} n_i * integral_{t_i}^{t} K(t - s) phi(s - t_i) ds

with the triangular window ``K(u) = max(0, 1 - u / w)`` of width
``w = clip(window_fraction * t, min_window, max_window)`` (the paper: half the
observed age; we also bound it, default 300 s .. 4 h).  The numerator is the
window-weighted count of reshares ("R_t in the window"), the denominator the
window-weighted exposure ``N_eff``; both integrals are in closed form.

Prior.  The weighted count is treated as Poisson with mean ``p * N_eff`` and ``p``
gets a conjugate Gamma prior whose mean is ``prior_branching / n*`` and whose
weight is ``prior_strength`` pseudo-reshares, so

    p_t = (prior_strength + count) / (prior_strength * n* / prior_branching + N_eff).

With few events (or a root only) the estimate is the prior; with many the data win.

Final size (the paper's branching-factor formula with its two corrections):

    predicted = R_t + alpha * p_t * sum_i n_i (1 - Phi(t - t_i)) / (1 - gamma * p_t * n*)

``R_t`` = reshares observed (root excluded).  ``n*`` is the mean follower count of
a resharer.  The paper uses one network-wide constant; by default
(``n_star=None``) we use this cascade's mean resharer follower count (the root's
when nobody reshared yet), which makes the prediction invariant to the units of
the marks (Reddit's constant mark 1 and Twitter follower counts both work).  A
fixed ``n_star`` restores the paper's behaviour.  When ``gamma * p_t * n* >= 1``
the cascade is supercritical (infinite expected size): ``predicted_final`` is the
cap ``max_final_ratio * max(R_t, 1)`` and ``supercritical`` is True.  Finite
predictions are capped the same way.

Interval (two-sided, normal quantile ``interval_z``, default 90 %).  Parameter
uncertainty: the posterior of ``p`` is a Gamma whose shape is the prior strength
plus the effective number of weighted reshares ``(sum K)^2 / sum K^2``; its
quantiles (Wilson-Hilferty) are pushed through the (monotone) formula.  Process
noise: the future is a branching process with Poisson(D) first-generation
reshares, ``D = alpha * p * sum n_i (1 - Phi)``, each starting a subtree with
offspring mean ``m = gamma * p * n*`` and variance ``m (1 + m * cv2)`` (``cv2``:
squared coefficient of variation of the observed resharers' follower counts), so
``Var = D * (sigma^2 / (1 - m)^3 + 1 / (1 - m)^2)``.  The interval is
``[R_t + F(p_lo) - z sd(p_lo), R_t + F(p_hi) + z sd(p_hi)]``, clipped to
``[R_t, cap]`` and made to contain the prediction; when even ``p_lo`` is
supercritical the low end counts the first generation only (``D`` at ``p_lo``,
minus ``z sqrt(D)``).  On the held-out simulated cascades about 90 % of the true
sizes fall inside (see ``evals.seismic_eval``).

Inputs.  Index 0 is the root post; its time is taken as 0 whatever is given.
Order does not matter (every quantity is a sum over events).  Exact duplicate
events are kept: a file cannot tell a double row from two reshares in the same
second.  Reshares with a negative or non-finite time are dropped and counted in
``Prediction.dropped``; reshares after ``observe_seconds`` are ignored (not yet
seen).  ``observe_seconds <= 0`` (or NaN) means "at the root's post time": only
reshares at time 0 are seen and the prediction comes from the prior.  Missing,
negative or non-finite follower counts are replaced by the median of the known
ones among the cascade's observed events, or ``default_followers`` (1.0) when none
is known (counts above 1e12 are clipped): a source without follower counts (Reddit) gets a constant mark, so
every event excites the same amount and ``p`` is the per-event branching rate.
When ``followers`` is shorter than ``times`` the missing tail is "unknown"; extra
entries are ignored.

Calibration.  ``alpha``, ``gamma``, ``prior_branching``, ``prior_strength`` and
``max_window_seconds`` were fitted on half of the simulated cascades of
``evals.seismic_eval`` (minimising the median relative error at 1 h, 2 h and
6 h) and checked on the other half; see that module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_MAX_OBSERVE_SECONDS = 1e9  # ~31 years: keeps the closed forms finite
_MAX_CV2 = 1e3
_MAX_FOLLOWERS = 1e12  # larger counts are clipped (keeps squares finite)
_MIN_N_STAR = 1e-6


@dataclass(frozen=True)
class SeismicParams:
    """Kernel, estimator and calibration constants (defaults: see module docstring)."""

    s0_seconds: float = 300.0
    theta: float = 0.242
    n_star: float | None = None  # None: this cascade's mean resharer follower count
    alpha: float = 0.3
    gamma: float = 0.7
    window_fraction: float = 0.5
    min_window_seconds: float = 300.0
    max_window_seconds: float = 4 * 3600.0
    prior_branching: float = 0.7  # prior mean of p * n*
    prior_strength: float = 5.0  # prior weight, in reshares
    default_followers: float = 1.0
    max_final_ratio: float = 20.0
    interval_z: float = 1.645

    def __post_init__(self) -> None:
        checks = {
            "s0_seconds > 0": self.s0_seconds > 0,
            "0 < theta < 1": 0 < self.theta < 1,
            "n_star > 0 or None": self.n_star is None or self.n_star > 0,
            "alpha > 0": self.alpha > 0,
            "gamma > 0": self.gamma > 0,
            "window_fraction > 0": self.window_fraction > 0,
            "0 < min_window_seconds <= max_window_seconds": 0 < self.min_window_seconds <= self.max_window_seconds,
            "prior_branching > 0": self.prior_branching > 0,
            "prior_strength > 0": self.prior_strength > 0,
            "default_followers >= 0": self.default_followers >= 0,
            "max_final_ratio >= 1": self.max_final_ratio >= 1,
            "interval_z >= 0": self.interval_z >= 0,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ValueError("invalid SeismicParams: " + ", ".join(failed))

    @property
    def kernel_constant(self) -> float:
        """``c`` such that the kernel integrates to one."""
        return self.theta / (self.s0_seconds * (1.0 + self.theta))


DEFAULT_PARAMS = SeismicParams()


@dataclass(frozen=True)
class Prediction:
    observed: int  # reshares seen by the observation time (root excluded)
    predicted_final: float  # expected total reshares (root excluded)
    interval: tuple[float, float]
    supercritical: bool
    infectiousness: float  # p_t, per follower
    dropped: int = 0  # reshares dropped for a negative or non-finite time


class CascadeStats(NamedTuple):
    """Per-cascade sufficient statistics; marks are divided by ``n_star``."""

    observed: IntArray  # R_t
    weighted_count: FloatArray  # sum K(t - t_i) over reshares
    weighted_count_sq: FloatArray  # sum K^2
    exposure: FloatArray  # N_eff / n*
    remaining: FloatArray  # sum n_i (1 - Phi(t - t_i)) / n*
    cv2: FloatArray  # squared coefficient of variation of resharer marks
    n_star: FloatArray
    dropped: IntArray


class BatchPrediction(NamedTuple):
    observed: IntArray
    predicted_final: FloatArray
    low: FloatArray
    high: FloatArray
    supercritical: BoolArray
    infectiousness: FloatArray
    dropped: IntArray


def kernel_survival(u: FloatArray, params: SeismicParams) -> FloatArray:
    """``1 - Phi(u)``: the share of an event's influence still to come after ``u`` seconds."""
    s0, theta = params.s0_seconds, params.theta
    u = np.maximum(u, 0.0)
    tail = (np.maximum(u, s0) / s0) ** -theta / (1.0 + theta)
    return np.where(u <= s0, 1.0 - params.kernel_constant * u, tail)


def _kernel_moment(u: FloatArray, params: SeismicParams) -> FloatArray:
    """``integral_0^u s phi(s) ds``."""
    s0, theta, c = params.s0_seconds, params.theta, params.kernel_constant
    x = np.maximum(u, s0) / s0
    tail = c * s0 * s0 * (0.5 + (x ** (1.0 - theta) - 1.0) / (1.0 - theta))
    return np.where(u <= s0, 0.5 * c * u * u, tail)


def _window_exposure(age: FloatArray, width: FloatArray, params: SeismicParams) -> FloatArray:
    """``integral_{t_i}^{t} K(t - s) phi(s - t_i) ds`` for an event ``age = t - t_i`` old."""
    start = np.maximum(age - width, 0.0)
    mass = kernel_survival(start, params) - kernel_survival(age, params)
    moment = _kernel_moment(age, params) - _kernel_moment(start, params)
    return np.maximum((moment - (age - width) * mass) / width, 0.0)


def _as_floats(values: Iterable[object], length: int | None = None) -> FloatArray:
    """Floats, with None / junk as NaN; padded with NaN (or cut) to ``length``."""
    items = values if isinstance(values, np.ndarray) else list(values)
    try:
        out = np.array(items, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        out = np.array([_to_float(v) for v in items], dtype=np.float64)
    if length is not None and out.size != length:
        out = np.concatenate([out, np.full(max(length - out.size, 0), np.nan)])[:length]
    return out


def _to_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def cascade_stats(
    times: ArrayLike,
    followers: ArrayLike,
    lengths: ArrayLike,
    observe_seconds: float | ArrayLike,
    params: SeismicParams = SeismicParams(),
) -> CascadeStats:
    """Statistics of many cascades stored back to back (root first in each).

    ``times``/``followers`` are flat float arrays (NaN = unknown follower count),
    ``lengths`` the number of rows of each cascade, ``observe_seconds`` a scalar
    or one value per cascade.
    """
    t = np.array(times, dtype=np.float64, copy=True).ravel()
    marks = np.array(followers, dtype=np.float64, copy=True).ravel()
    sizes = np.asarray(lengths, dtype=np.int64).ravel()
    count = sizes.size
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seg = np.repeat(np.arange(count, dtype=np.int64), sizes)
    is_root = np.zeros(t.size, dtype=bool)
    is_root[starts[sizes > 0]] = True
    t[is_root] = 0.0

    observe = np.broadcast_to(np.asarray(observe_seconds, dtype=np.float64), (count,))
    observe = np.clip(np.nan_to_num(observe, nan=0.0), 0.0, _MAX_OBSERVE_SECONDS)

    good_time = np.isfinite(t) & (t >= 0)
    dropped = np.bincount(seg[~good_time], minlength=count).astype(np.int64)
    keep = good_time & (t <= observe[seg])
    t, marks, seg, is_root = t[keep], marks[keep], seg[keep], is_root[keep]

    marks[~np.isfinite(marks) | (marks < 0)] = np.nan
    np.minimum(marks, _MAX_FOLLOWERS, out=marks)
    unknown = np.isnan(marks)
    if unknown.any():
        fill = np.full(count, params.default_followers)
        needs = np.bincount(seg[unknown], minlength=count) > 0
        needs &= np.bincount(seg[~unknown], minlength=count) > 0
        rows = needs[seg]  # only cascades with both known and unknown counts need a median
        if rows.any():
            _, sub_seg = np.unique(seg[rows], return_inverse=True)
            fill[needs] = _segment_median(marks[rows], sub_seg.astype(np.int64), int(needs.sum()))
        marks[unknown] = fill[seg[unknown]]

    share = ~is_root
    observed = np.bincount(seg[share], minlength=count).astype(np.int64)
    if params.n_star is None:
        root_mark = np.full(count, params.default_followers)
        root_mark[seg[is_root]] = marks[is_root]
        mean_mark = _sum(seg[share], marks[share], count) / np.maximum(observed, 1)
        n_star = np.where(observed > 0, mean_mark, root_mark)
        n_star = np.where(n_star > _MIN_N_STAR, n_star, 1.0)  # all-zero marks: no follower mass at all
    else:
        n_star = np.full(count, params.n_star)
    scaled = marks / n_star[seg]

    age = observe[seg] - t
    width = np.clip(params.window_fraction * observe, params.min_window_seconds, params.max_window_seconds)[seg]
    weight = np.maximum(1.0 - age / width, 0.0)[share]
    first = _sum(seg[share], scaled[share], count)
    second = _sum(seg[share], scaled[share] ** 2, count)
    safe = np.maximum(observed, 1)
    mean_sq = np.maximum(first / safe, 1e-150) ** 2
    cv2 = np.where(observed >= 2, (second / safe) / mean_sq - 1.0, 0.0)
    return CascadeStats(
        observed=observed,
        weighted_count=_sum(seg[share], weight, count),
        weighted_count_sq=_sum(seg[share], weight**2, count),
        exposure=_sum(seg, scaled * _window_exposure(age, width, params), count),
        remaining=_sum(seg, scaled * kernel_survival(age, params), count),
        cv2=np.clip(cv2, 0.0, _MAX_CV2),
        n_star=n_star,
        dropped=dropped,
    )


def _sum(seg: IntArray, weights: FloatArray, count: int) -> FloatArray:
    return np.bincount(seg, weights=weights, minlength=count).astype(np.float64)


def _segment_median(values: FloatArray, seg: IntArray, count: int) -> FloatArray:
    """Median of the non-NaN values of each segment (each has at least one)."""
    order = np.lexsort((values, seg))  # NaN last within each segment
    ordered = values[order]
    known = np.bincount(seg[~np.isnan(values)], minlength=count)
    begin = np.concatenate([[0], np.cumsum(np.bincount(seg, minlength=count))[:-1]])
    return 0.5 * (ordered[begin + (known - 1) // 2] + ordered[begin + known // 2])


def _gamma_quantile_ratio(shape: FloatArray, z: float) -> FloatArray:
    """Quantile / mean of a Gamma(shape) at normal quantile ``z`` (Wilson-Hilferty)."""
    return np.maximum(1.0 - 1.0 / (9.0 * shape) + z / (3.0 * np.sqrt(shape)), 0.0) ** 3


def predict_from_stats(stats: CascadeStats, params: SeismicParams = SeismicParams()) -> BatchPrediction:
    """Turn :func:`cascade_stats` into predictions (cheap: used by the calibration grid)."""
    observed = stats.observed.astype(np.float64)
    prior = params.prior_strength
    branching = (prior + stats.weighted_count) / (prior / params.prior_branching + stats.exposure)
    cap = params.max_final_ratio * np.maximum(observed, 1.0)

    def future(m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Expected further reshares and their process variance at branching ``m``."""
        crit = params.gamma * m
        sub = crit < 1.0
        gap = np.where(sub, 1.0 - crit, 1.0)
        direct = params.alpha * m * stats.remaining
        none = direct <= 0  # nothing left to spread: no future, whatever m
        mean = np.where(none, 0.0, np.where(sub, direct / gap, np.inf))
        spread = crit * (1.0 + crit * stats.cv2)
        var = np.where(none, 0.0, np.where(sub, direct * (spread / gap**3 + 1.0 / gap**2), np.inf))
        return mean, var

    mean, _ = future(branching)
    supercritical = (params.gamma * branching >= 1.0) & (stats.remaining > 0)
    predicted = np.minimum(observed + mean, cap)

    z = params.interval_z
    count_sq = stats.weighted_count_sq
    effective = np.divide(stats.weighted_count**2, count_sq, out=np.zeros_like(count_sq), where=count_sq > 0)
    shape = prior + effective
    branching_lo = branching * _gamma_quantile_ratio(shape, -z)
    mean_lo, var_lo = future(branching_lo)
    mean_hi, var_hi = future(branching * _gamma_quantile_ratio(shape, z))
    # Supercritical even at the low quantile: only the first generation is a safe lower bound.
    first_lo = params.alpha * branching_lo * stats.remaining
    mean_lo = np.where(np.isfinite(mean_lo), mean_lo, first_lo)
    var_lo = np.where(np.isfinite(var_lo), var_lo, first_lo)
    with np.errstate(invalid="ignore"):
        low = observed + np.maximum(mean_lo - z * np.sqrt(var_lo), 0.0)
        high = observed + mean_hi + z * np.sqrt(var_hi)
    low = np.clip(np.nan_to_num(low, nan=np.inf), observed, predicted)
    high = np.clip(np.nan_to_num(high, nan=np.inf), predicted, cap)
    return BatchPrediction(
        observed=stats.observed,
        predicted_final=predicted,
        low=low,
        high=high,
        supercritical=supercritical,
        infectiousness=branching / stats.n_star,
        dropped=stats.dropped,
    )


def predict_flat(
    times: ArrayLike,
    followers: ArrayLike,
    lengths: ArrayLike,
    observe_seconds: float | ArrayLike,
    params: SeismicParams = SeismicParams(),
) -> BatchPrediction:
    """Vectorised predictions for cascades stored back to back (see :func:`cascade_stats`)."""
    return predict_from_stats(cascade_stats(times, followers, lengths, observe_seconds, params), params)


def predict_many(
    cascades: Iterable[tuple[Sequence[float], Sequence[float | None]]],
    observe_seconds: float | Sequence[float],
    params: SeismicParams = SeismicParams(),
) -> list[Prediction]:
    """:func:`predict` for many ``(times, followers)`` cascades at once."""
    time_parts: list[FloatArray] = []
    mark_parts: list[FloatArray] = []
    for times, followers in cascades:
        part = _as_floats(times)
        time_parts.append(part)
        mark_parts.append(_as_floats(followers, part.size))
    if not time_parts:
        return []
    lengths = [part.size for part in time_parts]
    batch = predict_flat(np.concatenate(time_parts), np.concatenate(mark_parts), lengths, observe_seconds, params)
    return [
        Prediction(
            observed=int(batch.observed[i]),
            predicted_final=float(batch.predicted_final[i]),
            interval=(float(batch.low[i]), float(batch.high[i])),
            supercritical=bool(batch.supercritical[i]),
            infectiousness=float(batch.infectiousness[i]),
            dropped=int(batch.dropped[i]),
        )
        for i in range(len(lengths))
    ]


def predict(
    times_seconds: Sequence[float],
    followers: Sequence[float | None],
    observe_seconds: float,
    params: SeismicParams = SeismicParams(),
) -> Prediction:
    """Predicted final number of reshares of one cascade (root post at index 0)."""
    return predict_many([(times_seconds, followers)], observe_seconds, params)[0]
