"""Volume spikes per brand: the last hour's mentions against the same hour of past weeks.

Counts.  A brand's mentions are counted in hour-long buckets laid back from the
end of the window (``window_end - n hours``), so a window ending at 14:37 is
compared with the windows that ended at 14:37 one, two, ... weeks before.  The
brand's first stored mention marks where data begins: earlier hours are
unknown, not quiet.

Expected count.  With at least ``min_seasonal_weeks`` past weeks, the median of
the same window in each of the last ``weeks`` weeks ("Mondays 14:00"): one past
burst does not raise the bar, and a Monday peak is expected on Mondays.  With
fewer, a profile fitted to every known hour: level x hour-of-day factor x
day-of-week factor, refitted with bursty hours capped at fit + 4 sd.  A busy day
lifts the expectation: when the ``level_hours`` before the window ran above their
own baseline, the expectation is scaled by that ratio (never down), so a news day
makes one alarm, not one an hour.  The expectation never drops below
``min_expected_per_hour`` per hour of window (quiet hours are unlikely to see
mentions, not unable to).

Spread.  Poisson at least.  Past weeks say how much burstier the brand is:
``variance = (expected + a * expected**2) * inflation``, a negative binomial whose
``a`` comes from the robust (MAD) scale of how far each past week fell from the
median of the others, pooled over every slot of the week (or from the profile's
residuals), and ``inflation`` accounts for estimating the expectation from a few
weeks (the variance of a median of n) or days.

Test.  The upper-tail p-value of the count under that negative binomial (the
Poisson tail when ``a`` is 0), and ``z = (count - expected) / spread`` for people.
A spike needs p <= ``p_threshold``, count >= ``min_ratio`` x expected,
``min_authors`` distinct authors in the window, and ``min_history_days`` of
history (before that nothing is flagged: warm-up).  The count tested counts at
most ``max_mentions_per_author`` mentions per author when the caller gives it
(``detect_volume_spike`` does), so one account posting 50 times is neither a
spike on a small brand (authors) nor on a big one (the cap).

``python -m evals.spikes_eval`` measures detection and false alarms on
simulated seasonal traffic with injected bursts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from sqlalchemy import Connection

from reputation.store import as_utc
from reputation.store.counts import HOUR, capped_count, distinct_authors, first_mention_at, hourly_counts, whole_seconds
from reputation.wording import format_p, plural

WEEK_HOURS = 168
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_MAD_TO_SD = 1.4826
# Variance of the median of n normal draws, in units of sigma^2 / n (pi/2 for large n).
_MEDIAN_EFFICIENCY = (1.0, 1.0, 1.346, 1.19, 1.434, 1.287, 1.475, 1.343)
_CAP_SD = 4.0  # history hours above fit + 4 sd are capped before refitting
_PROFILE_PRIOR = 2.0  # pseudo-mentions that pull a sparse profile factor towards 1
_DISPERSION_MIN_MEAN = 5.0  # windows quieter than this are left to the Poisson floor
_DISPERSION_MIN_WINDOWS = 24
_LEVEL_PRIOR = 10.0  # pseudo-mentions that keep a quiet day's level near 1
_MAX_EXCESS = 4.0  # a day-to-day coefficient of variation of 2 at most


@dataclass(frozen=True)
class SpikeParams:
    weeks: int = 4  # of history the baseline reads
    window_hours: int = 1
    min_history_days: float = 7.0  # warm-up: never a spike with less history
    p_threshold: float = 1e-3
    min_ratio: float = 2.0
    min_authors: int = 5  # distinct, in the window
    min_seasonal_weeks: int = 3  # fewer past weeks: the hour-of-day x day-of-week profile
    min_expected_per_hour: float = 0.5
    max_mentions_per_author: int = 3  # in the count tested
    level_hours: int = 24  # how far back a busy day is looked for; 0: never

    def __post_init__(self) -> None:
        if self.weeks < 1 or not 1 <= self.window_hours <= WEEK_HOURS:
            raise ValueError("weeks must be >= 1 and window_hours between 1 and 168")
        if not 1 <= self.min_seasonal_weeks <= self.weeks:
            raise ValueError("min_seasonal_weeks must be between 1 and weeks")
        if self.min_expected_per_hour <= 0 or not 0 < self.p_threshold < 1:
            raise ValueError("min_expected_per_hour must be > 0 and p_threshold in (0, 1)")
        if self.level_hours < 0 or self.max_mentions_per_author < 1 or self.min_authors < 0:
            raise ValueError("level_hours and min_authors must be >= 0, max_mentions_per_author >= 1")


DEFAULT_PARAMS = SpikeParams()


@dataclass(frozen=True)
class VolumeSpike:
    brand: str
    window_start: datetime
    window_end: datetime
    observed: int
    expected: float
    ratio: float  # counted / expected; 0 without a baseline
    p_value: float  # P(X >= counted); 1 without a baseline
    z_score: float
    weeks_of_history: float  # known history before the window, at most `weeks`
    warming_up: bool
    is_spike: bool
    explanation: str
    authors: int = 0
    counted: int = 0  # the count tested: observed, with at most max_mentions_per_author per author when known
    spread: float = 0.0  # standard deviation the test assumed
    baseline: str = "none"  # "seasonal" | "profile" | "none"

    def facts(self) -> dict[str, Any]:
        """JSON-ready numbers for an incident's details."""
        return {
            "brand": self.brand,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "observed": self.observed,
            "counted": self.counted,
            "expected": round(self.expected, 2),
            "ratio": round(self.ratio, 2),
            "p_value": float(f"{self.p_value:.3g}"),
            "z_score": round(self.z_score, 2),
            "spread": round(self.spread, 2),
            "authors": self.authors,
            "weeks_of_history": self.weeks_of_history,
            "baseline": self.baseline,
            "warming_up": self.warming_up,
            "explanation": self.explanation,
        }


def assess_volume(
    brand: str,
    counts: Mapping[datetime, int],
    *,
    window_end: datetime,
    authors: int,
    history_start: datetime | None,
    params: SpikeParams = DEFAULT_PARAMS,
    capped: int | None = None,
) -> VolumeSpike:
    """Is the window of `params.window_hours` ending at `window_end` a volume spike for `brand`?

    `counts` maps the start of hour-long buckets (``window_end - n hours``; other
    keys count in the bucket that holds them, missing ones are 0) to mentions;
    `authors` is the number of distinct authors in the window; `history_start`
    is when the brand's data begins (None: no history at all); `capped` is the
    window's count with at most `params.max_mentions_per_author` per author,
    which the test uses when given.
    """
    end = as_utc(window_end)
    total = params.weeks * WEEK_HOURS + params.window_hours
    grid_start = end - total * HOUR
    series = np.zeros(total)
    for at, count in counts.items():
        index = (as_utc(at) - grid_start) // HOUR
        if 0 <= index < total:
            series[index] += count
    known_from = total if history_start is None else math.ceil((as_utc(history_start) - grid_start) / HOUR)
    series[: max(0, min(known_from, total - params.window_hours))] = np.nan
    return assess_series(brand, series, window_end=end, authors=authors, params=params, capped=capped)


def assess_series(
    brand: str,
    series: Sequence[float] | FloatArray,
    *,
    window_end: datetime,
    authors: int,
    params: SpikeParams = DEFAULT_PARAMS,
    capped: int | None = None,
) -> VolumeSpike:
    """`assess_volume` over an array: ``weeks * 168 + window_hours`` hourly counts, oldest first, ending at
    `window_end`; NaN marks hours before the brand's data begins."""
    end = as_utc(window_end)
    width = params.window_hours
    total = params.weeks * WEEK_HOURS + width
    values = np.asarray(series, dtype=np.float64)
    if values.shape != (total,):
        raise ValueError(f"series must hold {total} hourly counts, not {values.shape}")
    last = total - width  # first hour of the window
    observed = int(np.nansum(values[last:]))
    seen = np.flatnonzero(~np.isnan(values[:last]))
    first_known = int(seen[0]) if seen.size else last
    values = np.nan_to_num(values[first_known:])  # gaps after the start of data are quiet hours
    history_hours = last - first_known
    grid_start = end - total * HOUR
    hour_of_week = (grid_start.weekday() * 24 + grid_start.hour + np.arange(first_known, total)) % WEEK_HOURS
    tested = observed if capped is None else min(capped, observed)
    if history_hours == 0:
        expected, excess, inflation, baseline, basis = 0.0, 0.0, 1.0, "none", "no history"
    else:
        expected, excess, inflation, baseline, basis = _expectation(values, hour_of_week, history_hours, params)
    spread = math.sqrt((expected + excess * expected**2) * inflation)
    p_value = upper_tail(tested, expected, spread**2) if expected > 0 else 1.0
    z_score = (tested - expected) / spread if spread > 0 else 0.0
    ratio = tested / expected if expected > 0 else 0.0
    warming_up = history_hours < params.min_history_days * 24
    reasons = [] if expected > 0 else [f"no history for {brand} yet"]
    if warming_up:
        days = f"{history_hours / 24:.1f} of {params.min_history_days:g} days"
        reasons.append(f"warming up ({days} of history), not flagged")
    if authors < params.min_authors:
        reasons.append(f"only {plural(authors, 'distinct author')} ({params.min_authors} needed), not flagged")
    if expected > 0 and (p_value > params.p_threshold or ratio < params.min_ratio):
        reasons.append("within the normal range")
    return VolumeSpike(
        brand=brand,
        window_start=end - width * HOUR,
        window_end=end,
        observed=observed,
        expected=expected,
        ratio=ratio,
        p_value=p_value,
        z_score=z_score,
        weeks_of_history=round(history_hours / WEEK_HOURS, 2),
        warming_up=warming_up,
        is_spike=not reasons,
        explanation="; ".join([_headline(end, observed, tested, expected, p_value, basis, authors, params), *reasons]),
        authors=authors,
        counted=tested,
        spread=spread,
        baseline=baseline,
    )


def _expectation(
    values: FloatArray, hour_of_week: IntArray, last: int, params: SpikeParams
) -> tuple[float, float, float, str, str]:
    """Expected count, excess variance, inflation, baseline kind and its description, for the window at `last`.

    `values` starts with the first known hour; `last` hours of history precede the window.
    """
    width = params.window_hours
    recent_hours = min(params.level_hours, last)
    windows = sliding_window_view(values, width).sum(axis=1)
    past = [last - WEEK_HOURS * k for k in range(1, params.weeks + 1)]
    rows = np.array([windows[at : at + WEEK_HOURS - width + 1] for at in past if at >= 0])
    if len(rows) >= params.min_seasonal_weeks:
        expected, excess, inflation = _seasonal(rows)
        usual = _seasonal_recent(values, last, recent_hours, len(rows))
        baseline, basis = "seasonal", "1 week ago" if len(rows) == 1 else f"median of {len(rows)} weeks"
    else:
        history = values[:last]
        expected, excess, inflation, fitted = _profile(history, hour_of_week[:last], hour_of_week[last:], width)
        usual = float(fitted[last - recent_hours :].sum())
        baseline, basis = "profile", f"profile of {last / 24:.1f} days"
    # A busy day lifts every hour: judge this hour against the day so far, never below the usual.
    level = max(1.0, (values[last - recent_hours : last].sum() + _LEVEL_PRIOR) / (usual + _LEVEL_PRIOR))
    if level >= 1.05:
        basis += f", x{level:.1f} for the last {recent_hours} h running high"
    expected = max(expected * level, params.min_expected_per_hour * width)
    return expected, excess, inflation, baseline, basis


def _headline(
    end: datetime,
    observed: int,
    tested: int,
    expected: float,
    p_value: float,
    basis: str,
    authors: int,
    params: SpikeParams,
) -> str:
    """63 mentions in the last hour vs 12 expected for Mondays 14:00 UTC (p=2e-9; median of 4 weeks; 41 authors)"""
    width = params.window_hours
    text = f"{plural(observed, 'mention')} in " + ("the last hour" if width == 1 else f"the last {width} hours")
    if tested < observed:
        text += f" ({tested} counting at most {params.max_mentions_per_author} per author)"
    if expected == 0:
        return text
    start = end - width * HOUR
    slot = f"{start:%A}s {start:%H:%M}" + ("" if width == 1 else f"-{end:%H:%M}")
    shown = f"{expected:.0f}" if expected >= 10 else f"{expected:.1f}"
    return f"{text} vs {shown} expected for {slot} UTC (p={format_p(p_value)}; {basis}; {plural(authors, 'author')})"


def _seasonal_recent(values: FloatArray, last: int, hours: int, weeks: int) -> float:
    """The usual count of the `hours` before `last`: the median of the same stretch in past weeks."""
    starts = [last - WEEK_HOURS * k - hours for k in range(1, weeks + 1)]
    sums = [values[start : start + hours].sum() for start in starts if start >= 0]
    return float(np.median(sums)) if sums else float(values[last - hours : last].sum())


def _median_efficiency(n: int) -> float:
    return _MEDIAN_EFFICIENCY[n - 1] if n <= len(_MEDIAN_EFFICIENCY) else math.pi / 2


def _excess_variance(errors: FloatArray, means: FloatArray, inflation: float) -> float:
    """The `a` in ``variance = (mean + a * mean**2) * inflation`` (0 is Poisson), from a robust (MAD) scale.

    Relative errors have variance ``(1 / mean + a) * inflation``; only windows that
    expect enough mentions tell a busy day from Poisson noise.
    """
    keep = means >= _DISPERSION_MIN_MEAN
    if np.count_nonzero(keep) < _DISPERSION_MIN_WINDOWS:
        return 0.0
    relative = errors[keep] / means[keep]
    scale = _MAD_TO_SD * float(np.median(np.abs(relative - np.median(relative))))
    return min(_MAX_EXCESS, max(0.0, scale**2 / inflation - float(np.median(1.0 / means[keep]))))


def _median_of_others(rows: FloatArray) -> FloatArray:
    """For each cell, the median of its column without it (columns sorted once)."""
    order = np.argsort(rows, axis=0, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=0)
    rank = np.argsort(order, axis=0)  # each cell's place in its sorted column
    n = len(rows) - 1  # the others
    middle = [(n - 1) // 2, n // 2]  # one index when n is odd
    # Skipping the cell itself shifts the indices at or above its rank by one.
    picks = [np.take_along_axis(ordered, np.where(i < rank, i, i + 1), axis=0) for i in middle]
    result: FloatArray = (picks[0] + picks[1]) / 2
    return result


def _seasonal(rows: FloatArray) -> tuple[float, float, float]:
    """Median of the same window in past weeks, its excess variance and inflation.

    rows[k] holds the windows of week k+1 from the current slot (column 0) on.
    """
    weeks = len(rows)
    expected = float(np.median(rows[:, 0]))
    if weeks < 2:
        return expected, 0.0, 1.0 + _median_efficiency(1)
    # How far each week fell from the median of the others, over every slot of the week.
    others = _median_of_others(rows)
    loo = 1.0 + _median_efficiency(weeks - 1) / (weeks - 1)
    excess = _excess_variance((rows - others).ravel(), others.ravel(), loo)
    return expected, excess, 1.0 + _median_efficiency(weeks) / weeks


def _profile(
    history: FloatArray, hour_of_week: IntArray, window_hours_of_week: IntArray, width: int
) -> tuple[float, float, float, FloatArray]:
    """Level x hour-of-day x day-of-week, fitted to every known hour with bursts capped."""
    hod, dow = hour_of_week % 24, hour_of_week // 24
    capped = history
    for _ in range(3):
        level = float(capped.mean())
        hour_factor = (np.bincount(hod, capped, 24) + _PROFILE_PRIOR) / (
            np.bincount(hod, minlength=24) * level + _PROFILE_PRIOR
        )
        day_factor = (np.bincount(dow, capped, 7) + _PROFILE_PRIOR) / (
            np.bincount(dow, level * hour_factor[hod], 7) + _PROFILE_PRIOR
        )
        fitted = level * hour_factor[hod] * day_factor[dow]
        capped = np.minimum(history, fitted + _CAP_SD * np.sqrt(fitted) + 1.0)
    target = window_hours_of_week
    expected = float((level * hour_factor[target % 24] * day_factor[target // 24]).sum())
    excess = 0.0
    if len(history) >= width:
        sums = sliding_window_view(history, width).sum(axis=1)
        means = sliding_window_view(fitted, width).sum(axis=1)
        excess = _excess_variance(sums - means, means, 1.0)
    # The profile's factors come from a few days each: widen by about 1 / days.
    return expected, excess, 1.0 + 2.0 / max(len(history) / 24, 1.0), fitted


def upper_tail(observed: int, mean: float, variance: float) -> float:
    """P(X >= observed) for a count with this mean and variance: negative binomial, or Poisson when variance <= mean."""
    if observed <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if variance <= mean * (1 + 1e-9):

        def log_pmf(k: int) -> float:
            return k * math.log(mean) - mean - math.lgamma(k + 1)

        def step(k: int) -> float:  # pmf(k + 1) / pmf(k)
            return mean / (k + 1)

    else:
        size = mean * mean / (variance - mean)
        q = mean / (size + mean)

        def log_pmf(k: int) -> float:
            return (
                math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) + size * math.log1p(-q) + k * math.log(q)
            )

        def step(k: int) -> float:
            return (k + size) / (k + 1) * q

    if observed > mean:  # the tail is small: sum it from `observed` up, relative to its first term
        total, term, k = 1.0, 1.0, observed
        while term > 1e-17 * total and k < observed + 10_000_000:
            term *= step(k)
            total += term
            k += 1
        return min(1.0, math.exp(log_pmf(observed) + math.log(total)))
    total, term, k = 1.0, 1.0, observed - 1  # 1 - P(X < observed), summed downwards
    while k > 0 and term > 1e-17 * total:
        term /= step(k - 1)
        total += term
        k -= 1
    return max(0.0, 1.0 - math.exp(log_pmf(observed - 1) + math.log(total)))


def detect_volume_spike(
    connection: Connection, brand: str, now: datetime, params: SpikeParams = DEFAULT_PARAMS
) -> VolumeSpike:
    """The brand's volume in the `window_hours` before `now` against the past `weeks` (now exclusive)."""
    end = whole_seconds(now)
    window_start = end - params.window_hours * HOUR
    counts = hourly_counts(connection, brand, end - (params.weeks * WEEK_HOURS + params.window_hours) * HOUR, end)
    return assess_volume(
        brand,
        counts,
        window_end=end,
        authors=distinct_authors(connection, brand, window_start, end),
        history_start=first_mention_at(connection, brand),
        params=params,
        capped=capped_count(connection, brand, window_start, end, params.max_mentions_per_author),
    )
