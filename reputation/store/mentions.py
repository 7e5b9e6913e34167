"""Mentions, their authors and the connector cursor, written together.

A batch and the cursor that follows it commit in one transaction: a crash
either keeps both or neither, so the next run neither skips nor loses data, and
the upsert on `platform:native_id` makes re-delivered mentions harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from reputation.models import Mention
from reputation.store.database import Store, upsert
from reputation.store.schema import authors, connector_state, mentions, source_runs


def author_key(mention: Mention) -> str:
    return f"{mention.platform}:{mention.author.id}"


def _author_rows(batch: Sequence[Mention], now: datetime) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for mention in batch:
        rows[author_key(mention)] = {
            "key": author_key(mention),
            "platform": mention.platform,
            "native_id": mention.author.id,
            "handle": mention.author.handle,
            "followers": mention.author.followers,
            "first_seen_at": now,
            "updated_at": now,
        }
    return list(rows.values())


def _mention_rows(batch: Sequence[Mention], source: str, now: datetime) -> list[dict[str, Any]]:
    # A page may hold the same item twice (platforms repeat items across
    # pages); the last copy wins, as it would across batches.
    rows: dict[str, dict[str, Any]] = {}
    for mention in batch:
        rows[mention.key] = {
            "key": mention.key,
            "platform": mention.platform,
            "native_id": mention.native_id,
            "kind": mention.kind.value,
            "url": mention.url,
            "text": mention.text,
            "created_at": mention.created_at,
            "author_key": author_key(mention),
            "parent_key": mention.parent_key,
            "root_key": mention.root_key,
            "quoted_key": mention.quoted_key,
            "score": mention.metrics.score,
            "likes": mention.metrics.likes,
            "reshares": mention.metrics.reshares,
            "replies": mention.metrics.replies,
            "rating": mention.rating,
            "language": mention.language,
            "brand": mention.brand,
            "query": mention.query,
            "source": source,
            "raw": mention.raw,
            "fetched_at": now,
            "updated_at": now,
            "pending": True,
        }
    return list(rows.values())


def save_batch(
    connection: Connection, source: str, batch: Sequence[Mention], state: dict[str, Any], now: datetime
) -> int:
    """Upsert a batch and its cursor on an open transaction; returns how many were new."""
    keys = [mention.key for mention in batch]
    existing = set(connection.scalars(select(mentions.c.key).where(mentions.c.key.in_(keys)))) if keys else set()
    upsert(
        connection,
        authors,
        _author_rows(batch, now),
        keys=["key"],
        update=lambda new: {
            "handle": new.handle,
            "followers": func.coalesce(new.followers, authors.c.followers),
            "updated_at": new.updated_at,
        },
    )
    upsert(
        connection,
        mentions,
        _mention_rows(batch, source, now),
        keys=["key"],
        update=lambda new: {
            # An edited review or post replaces the text and metrics and is
            # enriched again; created_at and the first source stay as they were.
            "text": new.text,
            "url": new.url,
            "score": new.score,
            "likes": new.likes,
            "reshares": new.reshares,
            "replies": new.replies,
            "rating": new.rating,
            "raw": new.raw,
            "updated_at": new.updated_at,
            "pending": case((mentions.c.text != new.text, True), else_=mentions.c.pending),
        },
    )
    upsert(
        connection,
        connector_state,
        [{"source": source, "state": state, "updated_at": now}],
        keys=["source"],
        update=["state", "updated_at"],
    )
    return len(set(keys) - existing)


def load_state(store: Store, source: str) -> dict[str, Any] | None:
    with store.engine.connect() as connection:
        state = connection.scalar(select(connector_state.c.state).where(connector_state.c.source == source))
    return dict(state) if state is not None else None


def reset_state(store: Store, source: str) -> None:
    with store.transaction() as connection:
        connection.execute(connector_state.delete().where(connector_state.c.source == source))


@dataclass
class SourceRun:
    source: str
    started_at: datetime
    fetched: int = 0
    stored: int = 0
    error: str | None = None
    degraded: int = 0


def record_run(store: Store, run: SourceRun, finished_at: datetime) -> None:
    with store.transaction() as connection:
        connection.execute(
            source_runs.insert().values(
                source=run.source,
                started_at=run.started_at,
                finished_at=finished_at,
                fetched=run.fetched,
                stored=run.stored,
                error=run.error,
                degraded=run.degraded,
            )
        )


def mark_enriched(connection: Connection, keys: Sequence[str]) -> None:
    if keys:
        connection.execute(update(mentions).where(mentions.c.key.in_(keys)).values(pending=False))


def count_mentions(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(mentions)) or 0)
