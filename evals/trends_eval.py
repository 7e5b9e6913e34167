"""How well :mod:`reputation.issues.trends` finds growing issues, and how often it cries wolf.

Run ``python -m evals.trends_eval`` (fixed seed, numpy only, seconds).

Traffic.  One brand with ``ISSUES`` issues over ``DAYS`` days of daily complaint
counts.  An issue's mean is log-uniform in 0.2 .. 20 posts a day; weekdays run
at 1.2x and weekends at 0.5x; each day's level is also multiplied by a
log-normal factor (sigma 0.3: ordinary busy and quiet days), so counts are
overdispersed as real ones are.  Every post has its own author.

Injected.  Once per issue, on a random day after the first two weeks, a burst
of Poisson(m x max(mean, 3)) extra posts, m cycling over ``MULTIPLES``.

Scored.  Every day after the warm-up is assessed with the default
:class:`~reputation.issues.trends.TrendParams` and 28 days of baseline, as
`issue_trends` would see it.  Detection: bursts flagged, by size.  False
alarms: days without a burst flagged, per 100 issue-months.  For scale, the
rule this replaced (posts >= 2.5 x max(mean of the 3 days before, 1), 8 posts,
5 authors) is scored on the same days.  The defaults were set before this
simulation was written and were not tuned on it.
"""

from __future__ import annotations

import numpy as np

from reputation.issues.trends import TrendParams, assess_issue, brand_baseline

SEED = 7
ISSUES = 400
DAYS = 70
BASELINE_DAYS = 28
MULTIPLES = (1, 2, 4, 8)


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts (issues x days), the burst day of each issue and its multiple."""
    means = np.exp(rng.uniform(np.log(0.2), np.log(20.0), ISSUES))
    weekday = np.where(np.arange(DAYS) % 7 < 5, 1.2, 0.5)
    level = rng.lognormal(0.0, 0.3, (ISSUES, DAYS))
    counts = rng.poisson(means[:, None] * weekday[None, :] * level)
    burst_day = rng.integers(14, DAYS, ISSUES)
    multiple = np.array([MULTIPLES[i % len(MULTIPLES)] for i in range(ISSUES)])
    extra = rng.poisson(multiple * np.maximum(means, 3.0))
    counts[np.arange(ISSUES), burst_day] += extra
    return counts, burst_day, multiple


def main() -> None:
    rng = np.random.default_rng(SEED)
    counts, burst_day, multiple = simulate(rng)
    params = TrendParams()
    flagged = np.zeros_like(counts, dtype=bool)
    old = np.zeros_like(counts, dtype=bool)
    first = params.min_history_windows
    for day in range(first, DAYS):
        start = max(0, day - BASELINE_DAYS)
        histories = {str(i): counts[i, start:day].tolist() for i in range(ISSUES)}
        totals = counts[:, start:day].sum(axis=0).tolist()
        baseline = brand_baseline(totals, histories, params)
        for i in range(ISSUES):
            posts = int(counts[i, day])
            trend = assess_issue(
                str(i), histories[str(i)], posts=posts, authors=posts, new=False, baseline=baseline, params=params
            )
            flagged[i, day] = trend.flagged
            before = counts[i, max(0, day - 3) : day].mean()
            old[i, day] = posts >= 8 and posts >= 2.5 * max(float(before), 1.0)
    days = np.arange(DAYS)[None, :]
    is_burst = days == burst_day[:, None]
    scored = days >= first
    quiet = scored & ~is_burst
    issue_months = quiet.sum() / 30.0 / 100.0
    print(f"{ISSUES} issues x {DAYS} days, seed {SEED}; days {first}..{DAYS - 1} scored")
    print(f"{'':28}{'trends':>10}{'old rule':>10}")
    for m in MULTIPLES:
        rows = multiple == m
        hit = flagged[rows, burst_day[rows]].mean()
        hit_old = old[rows, burst_day[rows]].mean()
        print(f"{f'bursts of {m}x detected':28}{hit:>10.1%}{hit_old:>10.1%}")
    alarms, alarms_old = flagged[quiet].sum() / issue_months, old[quiet].sum() / issue_months
    print(f"{'false alarms /100 issue-mo':28}{alarms:>10.1f}{alarms_old:>10.1f}")
    for low, high in ((0.0, 2.0), (2.0, 20.0)):
        mean = counts[:, :14].mean(axis=1)
        rows = (mean >= low) & (mean < high)
        band = quiet & rows[:, None]
        months = band.sum() / 3000.0
        print(
            f"{f'  issues at {low:g}-{high:g} a day':28}"
            f"{flagged[band].sum() / months:>10.1f}{old[band].sum() / months:>10.1f}"
        )


if __name__ == "__main__":
    main()
