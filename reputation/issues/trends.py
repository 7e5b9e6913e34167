"""New and spiking issues: an issue's posts in the current window against its own robust baseline.

Windows.  Counts come in windows of equal length laid back from the end of the
current one (24 hours by default: "the last 24 h", "the 24 h before", ...; the
digest uses local calendar days).  Only windows after the brand's data begins
count as history: earlier ones are unknown, not quiet.

Expected count.  The issue's mean over the past windows, winsorised: windows
above ``mean + 4 sd + 1`` (Poisson sd) are capped and the mean refitted twice, so
one past burst does not raise the bar for good.  Windows before the issue was
born count as zeros: its complaints did not exist then, the brand was watched.
Weekly season: when a week holds a whole number of windows, the mean is scaled by
how busy this phase of the week is for the brand's complaints as a whole (all
issues pooled, so a sparse issue borrows the brand's shape), shrunk towards 1.
The expectation never drops below ``min_expected`` posts per window.

Spread.  ``variance = (expected + a * expected**2) * (1 + 1 / n)``: a negative
binomial whose excess ``a`` is pooled over the brand's issues (the median, over
issues with enough posts, of how far their windows vary beyond Poisson), widened
for a mean estimated from ``n`` windows.

Test.  The upper-tail p-value of the posts counted (at most
``max_posts_per_author`` per author: one angry person does not make a trend).
An issue is flagged when p <= ``p_threshold``, posts >= ``min_ratio`` x expected,
posts >= ``min_posts``, distinct authors >= ``min_authors``, and the brand has
``min_history_windows`` of history (warm-up: on the first import every issue is
new, and none is news).  "new" when the issue was born in the window, else
"spiking".  The explanation shows the numbers: "42 posts in 24 h vs 6.0
expected (p=3e-9; winsorised mean of 27 days, this weekday x1.3; 17 authors)".

``python -m evals.trends_eval`` measures it on simulated issues against the rule it replaced.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, func, select

from reputation.issues.topics import topic_and_issue
from reputation.spread.spikes import upper_tail
from reputation.store import as_utc
from reputation.store.counts import first_mention_at, seconds_since_epoch
from reputation.store.queries import enriched_mentions
from reputation.store.schema import enrichments, issues, mentions, topics
from reputation.wording import format_p, plural

_CAP_SD = 4.0
_SEASON_PRIOR = 20.0  # pseudo-complaints that keep a thin phase of the week near factor 1
_MIN_SEASON_WINDOWS = 2  # same-phase windows needed before the season is trusted
_DISPERSION_MIN_MEAN = 1.0
_DISPERSION_MIN_ISSUES = 3
_DEFAULT_EXCESS = 0.25  # day-to-day variation beyond Poisson assumed until the brand shows its own
_MAX_EXCESS = 4.0


@dataclass(frozen=True)
class TrendParams:
    window_hours: int = 24
    min_history_windows: int = 7
    p_threshold: float = 1e-3
    min_ratio: float = 2.5
    min_posts: int = 8
    min_authors: int = 5
    min_expected: float = 0.5
    max_posts_per_author: int = 3

    def __post_init__(self) -> None:
        if self.window_hours < 1 or self.min_history_windows < 0 or self.min_expected <= 0:
            raise ValueError("window_hours >= 1, min_history_windows >= 0 and min_expected > 0 are needed")
        if not 0 < self.p_threshold < 1 or self.max_posts_per_author < 1:
            raise ValueError("p_threshold must be in (0, 1) and max_posts_per_author >= 1")

    @property
    def windows_per_week(self) -> int | None:
        """Windows in a week, when a week holds a whole number of them (the season is then by phase)."""
        return 168 // self.window_hours if 168 % self.window_hours == 0 else None


@dataclass(frozen=True)
class Baseline:
    """What every issue of a brand shares: its complaint volume's weekly shape and its excess variance."""

    season: float = 1.0  # this phase of the week vs the average window
    excess: float = _DEFAULT_EXCESS
    note: str = ""


@dataclass(frozen=True)
class IssueTrend:
    issue_id: str
    posts: int  # in the window
    counted: int  # posts with at most max_posts_per_author per author
    authors: int
    expected: float
    spread: float
    p_value: float
    ratio: float
    history_windows: int
    warming_up: bool
    new: bool
    significant: bool  # p <= p_threshold and posts >= min_ratio x expected, whatever the post and author minimums
    flagged: bool  # significant, with the minimums met and past the warm-up: alert level
    explanation: str

    @property
    def status(self) -> str:
        """ "new" or "spiking" when flagged, else ""."""
        if not self.flagged:
            return ""
        return "new" if self.new else "spiking"

    def facts(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "counted": self.counted,
            "authors": self.authors,
            "expected": round(self.expected, 2),
            "spread": round(self.spread, 2),
            "p_value": float(f"{self.p_value:.3g}"),
            "ratio": round(self.ratio, 2),
            "history_windows": self.history_windows,
            "warming_up": self.warming_up,
            "new": self.new,
            "explanation": self.explanation,
        }


def winsorised_mean(history: Sequence[float] | NDArray[np.float64]) -> float:
    """Mean of the counts with bursts (above mean + 4 Poisson sd + 1) capped, refitted twice."""
    values = np.asarray(history, dtype=np.float64)
    if values.size == 0:
        return 0.0
    mean = float(values.mean())
    for _ in range(2):
        mean = float(np.minimum(values, mean + _CAP_SD * math.sqrt(mean) + 1.0).mean())
    return mean


def brand_baseline(totals: Sequence[float], per_issue: Mapping[str, Sequence[float]], params: TrendParams) -> Baseline:
    """The brand's weekly shape from `totals` (all complaints per past window, oldest first, the window
    just before the current one last) and the excess variance pooled over `per_issue` histories."""
    season, note = 1.0, ""
    period = params.windows_per_week
    if period is not None and period > 1:
        values = np.asarray(totals, dtype=np.float64)
        # values[-k] is the window k steps back; those `period` steps apart share the current window's phase.
        same = values[len(values) - period :: -period] if len(values) >= period else values[:0]
        if same.size >= _MIN_SEASON_WINDOWS and values.mean() > 0:
            average = float(values.mean())
            season = (float(same.sum()) + _SEASON_PRIOR) / (same.size * average + _SEASON_PRIOR)
            if abs(season - 1.0) >= 0.05:
                note = f"this time of the week x{season:.2f}"
    ratios = []
    for history in per_issue.values():
        values = np.asarray(history, dtype=np.float64)
        if values.size < params.min_history_windows or values.size < 2:
            continue
        mean = winsorised_mean(values)
        if mean < _DISPERSION_MIN_MEAN:
            continue
        capped = np.minimum(values, mean + _CAP_SD * math.sqrt(mean) + 1.0)
        ratios.append((float(capped.var(ddof=1)) - mean) / mean**2)
    excess = _DEFAULT_EXCESS
    if len(ratios) >= _DISPERSION_MIN_ISSUES:
        excess = min(_MAX_EXCESS, max(0.0, float(np.median(ratios))))
    return Baseline(season=season, excess=excess, note=note)


def assess_issue(
    issue_id: str,
    history: Sequence[float],
    *,
    posts: int,
    authors: int,
    counted: int | None = None,
    new: bool,
    baseline: Baseline = Baseline(),
    params: TrendParams = TrendParams(),
) -> IssueTrend:
    """Is the issue new or spiking in the current window?

    `history`: its posts in each past window the brand was watched, oldest first
    (zeros before the issue was born); `posts`, `authors`, `counted` (posts with
    at most `max_posts_per_author` per author): the current window; `new`: the
    issue was born in the current window.
    """
    tested = posts if counted is None else min(counted, posts)
    n = len(history)
    mean = winsorised_mean(history)
    expected = max(mean * baseline.season, params.min_expected)
    spread = math.sqrt((expected + baseline.excess * expected**2) * (1.0 + 1.0 / max(n, 1)))
    p_value = upper_tail(tested, expected, spread**2)
    ratio = tested / expected
    warming_up = n < params.min_history_windows
    reasons = []
    if warming_up:
        reasons.append(f"warming up ({n} of {params.min_history_windows} windows of history), not flagged")
    if tested < params.min_posts:
        reasons.append(f"fewer than {params.min_posts} posts")
    if authors < params.min_authors:
        reasons.append(f"only {plural(authors, 'author')} ({params.min_authors} needed)")
    significant = p_value <= params.p_threshold and ratio >= params.min_ratio
    if not significant:
        reasons.append("within the normal range")
    return IssueTrend(
        issue_id=issue_id,
        posts=posts,
        counted=tested,
        authors=authors,
        expected=expected,
        spread=spread,
        p_value=p_value,
        ratio=ratio,
        history_windows=n,
        warming_up=warming_up,
        new=new,
        significant=significant,
        flagged=not reasons,
        explanation="; ".join([_headline(posts, tested, expected, p_value, n, authors, baseline, params), *reasons]),
    )


def _headline(
    posts: int,
    tested: int,
    expected: float,
    p_value: float,
    n: int,
    authors: int,
    baseline: Baseline,
    params: TrendParams,
) -> str:
    """42 posts in 24 h vs 6.0 expected (p=3e-9; winsorised mean of 27 windows, ...; 17 authors)"""
    text = f"{plural(posts, 'post')} in {params.window_hours} h"
    if tested < posts:
        text += f" ({tested} counting at most {params.max_posts_per_author} per author)"
    shown = f"{expected:.0f}" if expected >= 10 else f"{expected:.1f}"
    basis = ["no history" if n == 0 else f"winsorised mean of {plural(n, 'window')}"]
    if baseline.note:
        basis.append(baseline.note)
    return f"{text} vs {shown} expected (p={format_p(p_value)}; {', '.join(basis)}; {plural(authors, 'author')})"


# --- The store --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueInWindow:
    """A brand's issue as the current window sees it, with its trend."""

    issue_id: str
    label: str
    first_post_at: datetime  # its first post in the window
    trend: IssueTrend


def issue_trends(
    connection: Connection, brand: str, now: datetime, params: TrendParams, baseline_windows: int
) -> list[IssueInWindow]:
    """Trends of `brand`'s issues with at least `params.min_posts` posts in the window ending at `now`.

    Reads at most `baseline_windows` past windows, grouped in the database (one
    row per issue and window), and the current window's posts per author.
    """
    width = timedelta(hours=params.window_hours)
    end = as_utc(now).replace(microsecond=0)
    window_start = end - width
    first = first_mention_at(connection, brand)
    if first is None:
        return []
    known = max(0, min(baseline_windows, int((end - first) / width) - 1))
    seconds = params.window_hours * 3600
    back = ((int(end.timestamp()) - 1 - seconds_since_epoch(connection)) // seconds).label("back")
    complaint = (
        select()
        .select_from(enriched_mentions(author=None))
        .where(mentions.c.brand == brand, enrichments.c.issue_id.is_not(None), mentions.c.created_at < end)
    )
    per_window: dict[str, dict[int, int]] = defaultdict(dict)
    rows = connection.execute(
        complaint.add_columns(enrichments.c.issue_id, back, func.count().label("n"))
        .where(mentions.c.created_at >= end - (known + 1) * width)
        .group_by(enrichments.c.issue_id, back)
    )
    for row in rows:
        per_window[str(row.issue_id)][int(row.back)] = int(row.n)
    candidates = [i for i, counts in per_window.items() if counts.get(0, 0) >= params.min_posts]
    if not candidates:
        return []
    histories = {i: [counts.get(k, 0) for k in range(known, 0, -1)] for i, counts in per_window.items()}
    totals = [sum(history[j] for history in histories.values()) for j in range(known)]
    baseline = brand_baseline(totals, histories, params)
    by_author: dict[str, list[int]] = defaultdict(list)
    first_posts: dict[str, datetime] = {}
    rows = connection.execute(
        complaint.add_columns(
            enrichments.c.issue_id, func.count().label("n"), func.min(mentions.c.created_at).label("first")
        )
        .where(mentions.c.created_at >= window_start, enrichments.c.issue_id.in_(candidates))
        .group_by(enrichments.c.issue_id, mentions.c.author_key)
    )
    for row in rows:
        by_author[str(row.issue_id)].append(int(row.n))
        at = as_utc(row.first)
        first_posts[str(row.issue_id)] = min(first_posts.get(str(row.issue_id), at), at)
    meta = {
        row.id: row
        for row in connection.execute(
            select(issues, topics.c.label.label("topic_label"))
            .outerjoin(topics, topics.c.id == issues.c.topic_id)
            .where(issues.c.id.in_(candidates))
        )
    }
    found = []
    for issue_id in sorted(candidates):
        counts = by_author[issue_id]
        found_row = meta.get(issue_id)
        trend = assess_issue(
            issue_id,
            histories[issue_id],
            posts=sum(counts),
            authors=len(counts),
            counted=sum(min(n, params.max_posts_per_author) for n in counts),
            new=found_row is not None and as_utc(found_row.created_at) >= window_start,
            baseline=baseline,
            params=params,
        )
        label = (
            topic_and_issue(found_row.topic_label, found_row.label)
            if found_row is not None and found_row.label
            else issue_id
        )
        found.append(IssueInWindow(issue_id, label, first_posts.get(issue_id, window_start), trend))
    return found
