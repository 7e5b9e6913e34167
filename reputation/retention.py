"""Retention: forget old mentions, keep what the team did about them.

Mentions older than the cutoff go, with their enrichments and the authors no
remaining mention or incident points to. Incidents, their outbox and the
interactions on them stay: they are the record of what was alerted and how
fast the team reacted, and they carry their own title and details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, exists, select

from reputation.errors import ConfigError
from reputation.store import Store
from reputation.store.schema import authors, enrichments, incidents, mentions

# Small enough that one batch never holds a long lock on SQLite or bloats a PostgreSQL transaction.
BATCH_SIZE = 500


@dataclass(frozen=True)
class RetentionReport:
    cutoff_at: datetime
    mentions: int = 0
    enrichments: int = 0
    authors: int = 0


def delete_old_mentions(store: Store, now: datetime, keep_days: int, batch_size: int = BATCH_SIZE) -> RetentionReport:
    """Delete mentions created more than `keep_days` before `now`, batch by batch.

    Each batch is its own transaction, so an interrupted run keeps what it did
    and the next run carries on; running it twice deletes nothing more.
    """
    if keep_days < 1:
        raise ConfigError(f"retention must keep at least 1 day of mentions, not {keep_days}")
    cutoff_at = now - timedelta(days=keep_days)
    removed_mentions = removed_enrichments = 0
    while True:
        with store.transaction() as connection:
            keys = list(
                connection.scalars(
                    select(mentions.c.key)
                    .where(mentions.c.created_at < cutoff_at)
                    .order_by(mentions.c.key)
                    .limit(batch_size)
                )
            )
            if not keys:
                break
            # Explicit rather than relying on ON DELETE CASCADE, which SQLite honours only with its pragma on.
            removed_enrichments += connection.execute(
                delete(enrichments).where(enrichments.c.mention_key.in_(keys))
            ).rowcount
            removed_mentions += connection.execute(delete(mentions).where(mentions.c.key.in_(keys))).rowcount
    with store.transaction() as connection:
        removed_authors = _delete_orphan_authors(connection)
    return RetentionReport(cutoff_at, removed_mentions, removed_enrichments, removed_authors)


def _delete_orphan_authors(connection: Connection) -> int:
    still_posting = exists().where(mentions.c.author_key == authors.c.key)
    named_by_incident = exists().where(incidents.c.author_key == authors.c.key)
    return connection.execute(delete(authors).where(~still_posting, ~named_by_incident)).rowcount
