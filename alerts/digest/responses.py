"""The digest's "How we answered": the brand's public answers to the complaints written to it.

Counted over complaint threads (reputation.replies.threads) opened on the day
that the customer wrote to the brand (named or replied to an owned account, or
reviewed it) on a platform where the brand answers: one of its owned accounts'
platforms, or one where a company reply was seen. Answers are counted up to
when the page is generated.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from reputation.config import BrandConfig, Config
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import Thread, customer_threads
from reputation.store.schema import issues

# Time to the first answer, in minutes: the chart's bars.
BUCKETS = [(15.0, "under 15 min"), (60.0, "15\u201360 min"), (240.0, "1\u20134 h"), (1440.0, "4\u201324 h")]
OVER = "over 24 h"
NOT_ANSWERED = "not answered"
TOP_ISSUES = 6
_BAR_LEFT, _BAR_RIGHT, _ROW = 110, 46, 22


@dataclass(frozen=True)
class ResponseIssue:
    label: str
    threads: int
    answered: int
    median_minutes: float | None
    worse: int


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: float
    width: float
    css: str


@dataclass
class ResponseSummary:
    threads: int = 0
    answered: int = 0
    minutes: list[float] = field(default_factory=list)  # to the first answer, where the time is known
    unanswered_over_sla: int = 0
    sla_minutes: int | None = None
    canned: int = 0
    asked_again: int = 0
    worse: int = 0
    with_outcome: int = 0  # answered threads where the customer wrote again
    issues: list[ResponseIssue] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    owned_accounts: list[str] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.threads if self.threads else None

    @property
    def median_minutes(self) -> float | None:
        return statistics.median(self.minutes) if self.minutes else None

    @property
    def p90_minutes(self) -> float | None:
        if not self.minutes:
            return None
        ordered = sorted(self.minutes)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank

    @property
    def canned_share(self) -> float | None:
        return self.canned / self.answered if self.answered else None

    @property
    def chart_height(self) -> int:
        return _ROW * len(self.bars) + 8

    @property
    def chart_width(self) -> int:
        return 420


def _bucket(minutes: float | None, answered: bool) -> str:
    if not answered:
        return NOT_ANSWERED
    if minutes is None:
        return OVER
    return next((label for limit, label in BUCKETS if minutes < limit), OVER)


def response_summary(
    connection: Connection, config: Config, brand: BrandConfig, day_start: datetime, day_end: datetime, now: datetime
) -> ResponseSummary:
    owned = OwnedAccounts.from_config(config)
    threads = [
        thread
        for thread in customer_threads(connection, owned, day_start, brand.name, until=now)
        if thread.opened_at < day_end
    ]
    answerable = {platform for platform, _ in owned.handles(brand.name)}
    answerable |= {thread.platform for thread in threads if thread.answer is not None}
    counted = [t for t in threads if t.complaint and t.addressed and t.platform in answerable]
    rule = config.alerts.rules.unanswered_complaint
    summary = ResponseSummary(
        threads=len(counted),
        sla_minutes=config.response_sla_minutes(brand.name, rule.severity),
        owned_accounts=list(brand.owned_accounts),
    )
    by_issue: dict[str | None, list[Thread]] = defaultdict(list)
    buckets: dict[str, int] = defaultdict(int)
    for thread in counted:
        by_issue[thread.issue_id].append(thread)
        seconds = thread.first_response_seconds
        buckets[_bucket(seconds / 60 if seconds is not None else None, thread.answer is not None)] += 1
        if thread.answer is None:
            waited = (now - thread.opened_at).total_seconds() / 60
            summary.unanswered_over_sla += summary.sla_minutes is not None and waited >= summary.sla_minutes
            continue
        summary.answered += 1
        if seconds is not None:
            summary.minutes.append(seconds / 60)
        summary.canned += bool(thread.canned)
        summary.asked_again += bool(thread.asked_again)
        if thread.outcome != "unknown":
            summary.with_outcome += 1
            summary.worse += thread.outcome == "worse"
    summary.issues = _issues(connection, by_issue)
    summary.bars = _bars(buckets)
    return summary


def _issues(connection: Connection, by_issue: dict[str | None, list[Thread]]) -> list[ResponseIssue]:
    ids = [issue_id for issue_id in by_issue if issue_id]
    labels = {
        row.id: row.label for row in connection.execute(select(issues.c.id, issues.c.label).where(issues.c.id.in_(ids)))
    }
    lines = []
    for issue_id, threads in by_issue.items():
        minutes = [t.first_response_seconds / 60 for t in threads if t.first_response_seconds is not None]
        lines.append(
            ResponseIssue(
                label=labels.get(issue_id, issue_id) if issue_id else "(no issue)",
                threads=len(threads),
                answered=sum(t.answer is not None for t in threads),
                median_minutes=statistics.median(minutes) if minutes else None,
                worse=sum(t.outcome == "worse" for t in threads),
            )
        )
    lines.sort(key=lambda line: (-line.threads, line.label))
    return lines[:TOP_ISSUES]


def _bars(buckets: dict[str, int]) -> list[Bar]:
    labels = [label for _, label in BUCKETS] + [OVER, NOT_ANSWERED]
    peak = max(buckets.values(), default=0) or 1
    span = 420 - _BAR_LEFT - _BAR_RIGHT
    return [
        Bar(
            label=label,
            count=buckets.get(label, 0),
            y=float(4 + _ROW * index),
            width=round(span * buckets.get(label, 0) / peak, 1),
            css="neg" if label == NOT_ANSWERED else "neu" if label == OVER else "pos",
        )
        for index, label in enumerate(labels)
    ]
