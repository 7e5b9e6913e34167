"""How well :mod:`reputation.spread.spikes` finds volume bursts, and how often it cries wolf.

Run ``python -m evals.spikes_eval`` (fixed seed, numpy only, about a minute of CPU).

Traffic.  ``BRANDS`` brands, ``WEEKS`` weeks of hourly mentions each, starting on a
Monday.  A brand's mean volume is log-uniform in 0.2 .. 100 mentions an hour;
its hours follow a daytime curve (night about a quarter of the afternoon peak)
shifted by the brand's time zone, weekdays are busier than weekends, and Monday
13:00-16:00 (local) carries an extra 60 % (a weekly newsletter): the peak a
seasonal baseline must not flag.  Two scenarios:

- ``poisson``: every hour is Poisson around that curve;
- ``bursty``: each day's level is also multiplied by a log-normal factor
  (sigma 0.3: ordinary news days), so counts are overdispersed as real ones are.

Injected.  Twice a week per brand, a burst: one hour gets
Poisson(m x max(rate, 2)) extra mentions from distinct authors, m cycling over
``MULTIPLES`` (1 doubles the hour).  Once a week per brand, a flood: one author
posts ``FLOOD_POSTS`` times in an hour.  Organic mentions have distinct authors.

Scored.  Every hour after the first 7 days (the warm-up) is assessed with the
default :class:`~reputation.spread.spikes.SpikeParams`, the hourly window ending on the
hour, as ``detect_volume_spike`` would see it.  Detection: share of bursts whose
hour is flagged, by burst size and by brand volume (quiet < 2 an hour <= mid <
20 <= busy).  False alarms: flagged hours that hold neither a burst nor a flood,
per brand-week, as hours and as episodes (flagged hours less than
``EPISODE_GAP_HOURS`` apart are one alarm, as they would be one incident), for
week 2 (just after warm-up) and weeks 3-8.  Floods flagged: flood hours
flagged.  For scale, a flat baseline (mean of the previous 7 days, Poisson test,
same ratio and author gates) is scored on the same hours.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from reputation.spread.spikes import (
    DEFAULT_PARAMS,
    WEEK_HOURS,
    FloatArray,
    IntArray,
    SpikeParams,
    assess_series,
    upper_tail,
)

SEED = 20260307
BRANDS = 40
WEEKS = 8
WARMUP_HOURS = 7 * 24
MULTIPLES = (1.0, 2.0, 4.0)
FLOOD_POSTS = 40
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAY_SIGMA = 0.3

NDBool = np.ndarray[tuple[int], np.dtype[np.bool_]]


@dataclass(frozen=True)
class Brand:
    counts: FloatArray  # mentions per hour, everything included
    authors: IntArray  # distinct authors per hour
    capped: IntArray  # mentions per hour counting at most max_mentions_per_author per author
    burst: FloatArray  # the multiple injected at that hour, 0 for none
    flood: NDBool


def _curve(hours: IntArray, zone: int) -> FloatArray:
    local = (hours + zone) % WEEK_HOURS
    hod, dow = local % 24, local // 24
    daily = 0.25 + np.exp(-(((hod - 14.0) / 5.0) ** 2))
    weekly = np.array([1.15, 1.1, 1.1, 1.05, 1.0, 0.7, 0.75])[dow]
    monday = np.where((dow == 0) & (hod >= 13) & (hod < 16), 1.6, 1.0)
    shape: FloatArray = daily * weekly * monday
    normalised: FloatArray = shape / shape.mean()
    return normalised


def simulate(rng: np.random.Generator, bursty: bool, params: SpikeParams = DEFAULT_PARAMS) -> list[Brand]:
    hours = WEEKS * WEEK_HOURS
    index = np.arange(hours)
    brands = []
    for _ in range(BRANDS):
        level = math.exp(rng.uniform(math.log(0.2), math.log(100.0)))
        rate = level * _curve(index, int(rng.choice([0, 5, 8, 13, 18])))
        if bursty:
            rate = rate * np.repeat(rng.lognormal(-(DAY_SIGMA**2) / 2, DAY_SIGMA, hours // 24), 24)
        organic = rng.poisson(rate).astype(np.float64)
        burst = np.zeros(hours)
        flood = np.zeros(hours, dtype=bool)
        for week in range(1, WEEKS):  # the first week is warm-up
            picks = rng.choice(np.arange(week * WEEK_HOURS, (week + 1) * WEEK_HOURS), size=3, replace=False)
            burst[picks[:2]] = [MULTIPLES[(week * 2 + i) % len(MULTIPLES)] for i in range(2)]
            flood[picks[2]] = True
        extra = rng.poisson(burst * np.maximum(rate, 2.0)).astype(np.float64)
        counts = organic + extra + flood * FLOOD_POSTS
        authors = (organic + extra + flood).astype(np.int64)
        capped = (organic + extra + flood * min(FLOOD_POSTS, params.max_mentions_per_author)).astype(np.int64)
        brands.append(Brand(counts, authors, capped, burst, flood))
    return brands


EPISODE_GAP_HOURS = 6  # flagged hours closer than this are one alarm (one incident)
TIERS = (("quiet", 0.0, 2.0), ("mid", 2.0, 20.0), ("busy", 20.0, math.inf))  # mean mentions an hour


def flag_hours(brands: list[Brand], params: SpikeParams = DEFAULT_PARAMS) -> tuple[list[NDBool], list[NDBool]]:
    """Which hours after warm-up the detector flags, and which the flat 7-day baseline flags."""
    span = params.weeks * WEEK_HOURS + 1
    ours, flat = [], []
    for brand in brands:
        padded = np.concatenate([np.full(span, np.nan), brand.counts])
        mine, naive = np.zeros(len(brand.counts), dtype=bool), np.zeros(len(brand.counts), dtype=bool)
        for hour in range(WARMUP_HOURS, len(brand.counts)):
            end = START + timedelta(hours=hour + 1)
            authors, capped = int(brand.authors[hour]), int(brand.capped[hour])
            window = padded[hour + 1 : hour + 1 + span]
            mine[hour] = assess_series(
                "sim", window, window_end=end, authors=authors, params=params, capped=capped
            ).is_spike
            expected = max(float(brand.counts[hour - WEEK_HOURS : hour].mean()), params.min_expected_per_hour)
            naive[hour] = (
                authors >= params.min_authors
                and capped >= params.min_ratio * expected
                and upper_tail(capped, expected, expected) <= params.p_threshold
            )
        ours.append(mine)
        flat.append(naive)
    return ours, flat


def score(brands: list[Brand], flagged: list[NDBool]) -> dict[str, Any]:
    """Detection per burst multiple and volume tier; false alarms (hours, episodes) per brand-week and phase."""
    hits: dict[tuple[str, float], list[bool]] = {}
    alarms = {(phase, kind): 0 for phase in ("week 2", "weeks 3+") for kind in ("hours", "episodes")}
    floods = [0, 0]
    for brand, flags in zip(brands, flagged, strict=True):
        tier = next(name for name, low, high in TIERS if low <= brand.counts.mean() < high)
        for hour in np.flatnonzero(brand.burst):
            hits.setdefault((tier, float(brand.burst[hour])), []).append(bool(flags[hour]))
        floods[0] += int(flags[brand.flood].sum())
        floods[1] += int(brand.flood.sum())
        false = np.flatnonzero(flags & (brand.burst == 0) & ~brand.flood)
        for i, hour in enumerate(false):
            phase = "week 2" if hour < 2 * WEEK_HOURS else "weeks 3+"
            alarms[(phase, "hours")] += 1
            alarms[(phase, "episodes")] += i == 0 or hour - false[i - 1] >= EPISODE_GAP_HOURS
    brand_weeks = {"week 2": len(brands) * 1.0, "weeks 3+": len(brands) * (WEEKS - 2.0)}
    return {
        "detected": {key: float(np.mean(value)) for key, value in hits.items()},
        "bursts": {key: len(value) for key, value in hits.items()},
        "false_alarms": {key: count / brand_weeks[key[0]] for key, count in alarms.items()},
        "floods_flagged": tuple(floods),
    }


def report(name: str, result: dict[str, Any]) -> list[str]:
    detected, bursts = result["detected"], result["bursts"]

    def rate(multiple: float, tiers: tuple[str, ...]) -> str:
        keys = [(tier, multiple) for tier in tiers if (tier, multiple) in bursts]
        total = sum(bursts[key] for key in keys)
        return f"{sum(detected[key] * bursts[key] for key in keys) / total:.0%}" if total else "-"

    tiers = tuple(name for name, _, _ in TIERS)
    overall = " / ".join(rate(m, tiers) for m in MULTIPLES)
    by_tier = "; ".join(f"{tier} " + " / ".join(rate(m, (tier,)) for m in MULTIPLES) for tier in tiers)
    fa = result["false_alarms"]
    flooded, floods = result["floods_flagged"]
    return [
        f"  {name:<8} detected ({' / '.join(f'{m:g}x' for m in MULTIPLES)} extra): {overall}  [{by_tier}]",
        f"  {'':<8} false alarms per brand-week, hours / episodes: week 2 {fa[('week 2', 'hours')]:.2f}"
        f" / {fa[('week 2', 'episodes')]:.2f}, weeks 3-{WEEKS} {fa[('weeks 3+', 'hours')]:.2f}"
        f" / {fa[('weeks 3+', 'episodes')]:.2f}; one-author floods flagged {flooded}/{floods}",
    ]


def main() -> None:
    began = time.perf_counter()
    params = DEFAULT_PARAMS
    print(f"reputation.spread.spikes at the default params: {params}")
    print(f"{BRANDS} brands x {WEEKS} weeks, seed {SEED}, warm-up {WARMUP_HOURS // 24} days, bursts m x max(rate, 2)")
    rng = np.random.default_rng(SEED)
    for scenario in ("poisson", "bursty"):
        brands = simulate(rng, bursty=scenario == "bursty", params=params)
        ours, flat = flag_hours(brands, params)
        print(f"{scenario}:")
        print("\n".join(report("spikes", score(brands, ours)) + report("flat 7d", score(brands, flat))))
    print(f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
