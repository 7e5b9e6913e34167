"""Counting a brand's mentions by time window in the database: what the spike tests read.

Grouped in SQL so that at most one row per window comes back, whatever a brand's volume.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ColumnElement, Connection, Integer, case, cast, func, select

from reputation.errors import StoreError
from reputation.store import as_utc
from reputation.store.schema import mentions

HOUR = timedelta(hours=1)


def whole_seconds(at: datetime) -> datetime:
    return as_utc(at).replace(microsecond=0)


def seconds_since_epoch(connection: Connection) -> ColumnElement[int]:
    column = mentions.c.created_at
    if connection.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    if connection.dialect.name == "sqlite":
        # The text as stored, without its fraction: strftime would round 59.9999 s up.
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    raise StoreError(f"counting by time window needs SQLite or PostgreSQL, not {connection.dialect.name}")


def hourly_counts(connection: Connection, brand: str, start: datetime, end: datetime) -> dict[datetime, int]:
    """Mentions of `brand` created in [start, end), by hour-long bucket `start + n hours` (empty ones left out).

    `start` is taken to the whole second. Grouped in the database, so at most
    one row per hour comes back whatever the brand's volume.
    """
    start = whole_seconds(start)
    epoch = int(start.timestamp())
    bucket = ((seconds_since_epoch(connection) - epoch) // 3600).label("bucket")
    rows = connection.execute(
        select(bucket, func.count().label("n"))
        .where(mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < as_utc(end))
        .group_by(bucket)
    )
    return {start + int(row.bucket) * HOUR: int(row.n) for row in rows}


def distinct_authors(connection: Connection, brand: str, start: datetime, end: datetime) -> int:
    """Distinct authors (per platform account) of `brand`'s mentions created in [start, end)."""
    return int(
        connection.scalar(
            select(func.count(func.distinct(mentions.c.author_key))).where(
                mentions.c.brand == brand, mentions.c.created_at >= as_utc(start), mentions.c.created_at < as_utc(end)
            )
        )
        or 0
    )


def capped_count(connection: Connection, brand: str, start: datetime, end: datetime, per_author: int) -> int:
    """Mentions of `brand` created in [start, end), counting at most `per_author` from each author."""
    per = (
        select(func.count().label("n"))
        .where(mentions.c.brand == brand, mentions.c.created_at >= as_utc(start), mentions.c.created_at < as_utc(end))
        .group_by(mentions.c.author_key)
        .subquery()
    )
    return int(connection.scalar(select(func.sum(case((per.c.n > per_author, per_author), else_=per.c.n)))) or 0)


def first_mention_at(connection: Connection, brand: str) -> datetime | None:
    """When the brand's stored history begins (an index seek on brand, created_at)."""
    first = connection.scalar(
        select(mentions.c.created_at).where(mentions.c.brand == brand).order_by(mentions.c.created_at).limit(1)
    )
    return as_utc(first) if first is not None else None
