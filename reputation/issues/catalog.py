"""What people look up about issues: the live ones with their ids, and one issue's story of changes.

The ids are what `issues.rename` and `issues.merge` in the configuration take, so
`reputation issues list` is where a CX lead finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from reputation.errors import InputError
from reputation.issues.clustering import ISSUE_FADES_AFTER
from reputation.issues.granularity import MIN_GROUP
from reputation.issues.topics import topic_and_issue
from reputation.store import as_utc
from reputation.store.schema import issue_changes, issues, topics


@dataclass(frozen=True)
class IssueEntry:
    id: str
    brand: str | None
    label: str
    named_by_a_person: bool
    posts: int
    created_at: datetime
    last_seen_at: datetime
    merged_into: str | None
    examples: tuple[str, ...]
    topic_id: str | None = None
    topic_label: str | None = None

    @property
    def title(self) -> str:
        """ "topic > issue"."""
        return topic_and_issue(self.topic_label, self.label)


@dataclass(frozen=True)
class IssueChange:
    at: datetime
    issue_id: str
    change: str  # merged | renamed | split
    other_id: str | None
    detail: str | None

    def describe(self, about: str) -> str:
        """The change as read from issue `about`'s side."""
        if self.change == "renamed":
            return f"renamed to {self.detail!r}"
        if self.change == "merged":
            how = "by configuration" if self.detail == "configured" else f"similarity {self.detail}"
            if self.issue_id == about:
                return f"merged into {self.other_id} ({how})"
            return f"{self.issue_id} merged into it ({how})"
        if self.change == "split":
            if self.issue_id == about:
                return f"split: {self.other_id} left it ({self.detail})"
            return f"split off {self.issue_id} ({self.detail})"
        return f"{self.change} {self.other_id or ''}".strip()


def is_live(now: datetime) -> ColumnElement[bool]:
    """An issue still matched by new complaints: not merged away, and not quiet for `ISSUE_FADES_AFTER`."""
    return and_(issues.c.merged_into.is_(None), issues.c.last_seen_at >= now - ISSUE_FADES_AFTER)


def live_issues(connection: Connection, now: datetime, brand: str | None = None, limit: int = 50) -> list[IssueEntry]:
    """Issues still matched (not merged, seen in the last 30 days), biggest first; the unsorted pool left out.

    An issue a person named is shown however small: someone already recognised it.
    """
    query = _with_topic().where(is_live(now), or_(issues.c.size >= MIN_GROUP, issues.c.label_locked))
    if brand is not None:
        query = query.where(issues.c.brand == brand)
    rows = connection.execute(query.order_by(issues.c.size.desc(), issues.c.id).limit(limit))
    return [_entry(row) for row in rows]


def unsorted_complaints(connection: Connection, now: datetime, brand: str | None = None) -> int:
    """Complaints waiting in the unsorted pool: in live groups too small to be an issue yet."""
    query = select(func.coalesce(func.sum(issues.c.size), 0)).where(
        is_live(now), issues.c.size < MIN_GROUP, issues.c.label_locked.is_(False)
    )
    if brand is not None:
        query = query.where(issues.c.brand == brand)
    return int(connection.scalar(query) or 0)


def _with_topic() -> Select[Any]:
    return select(issues, topics.c.label.label("topic_label")).outerjoin(topics, topics.c.id == issues.c.topic_id)


def find_issue(connection: Connection, issue_id: str) -> tuple[IssueEntry, list[IssueChange]]:
    """One issue and every change that names it, oldest first."""
    row = connection.execute(_with_topic().where(issues.c.id == issue_id)).first()
    if row is None:
        raise InputError(f"no issue {issue_id!r}; `reputation issues list` shows the ids")
    changes = connection.execute(
        select(issue_changes)
        .where(or_(issue_changes.c.issue_id == issue_id, issue_changes.c.other_id == issue_id))
        .order_by(issue_changes.c.at, issue_changes.c.id)
    )
    return _entry(row), [IssueChange(as_utc(c.at), c.issue_id, c.change, c.other_id, c.detail) for c in changes]


def _entry(row: Any) -> IssueEntry:
    return IssueEntry(
        id=row.id,
        brand=row.brand,
        label=row.label,
        named_by_a_person=bool(row.label_locked),
        posts=row.size,
        created_at=as_utc(row.created_at),
        last_seen_at=as_utc(row.last_seen_at),
        merged_into=row.merged_into,
        examples=tuple(row.examples or ()),
        topic_id=row.topic_id,
        topic_label=row.topic_label,
    )
