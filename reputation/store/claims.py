"""Claiming pending mentions, so that two enrichment workers never enrich the same row.

PostgreSQL: the pending rows are read `FOR UPDATE SKIP LOCKED`; a second worker
skips the rows the first holds and takes the next ones, and a row is no longer
pending once the first commits. SQLite has one writer at a time: the batch's
transaction takes the write lock before it reads (BEGIN IMMEDIATE), so a second
worker waits and then reads only what is still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, true

from reputation.store.schema import mentions


def _take_sqlite_write_lock(connection: Connection) -> None:
    dbapi = connection.connection.dbapi_connection
    # The sqlite3 module begins a transaction only before its first write; this
    # one must hold the lock from its first read, or two readers see the same rows.
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def claim_pending(connection: Connection, limit: int) -> Sequence[Any]:
    """Up to `limit` pending mentions, held by this transaction until it commits."""
    # No ORDER BY: with one, a planner may walk the created_at index through all history to
    # find the few pending rows (the caller sorts the batch). `= true`, not `IS TRUE`: only the
    # former can use the index on PostgreSQL.
    query = select(mentions).where(mentions.c.pending == true()).limit(limit)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    elif connection.dialect.name == "sqlite":
        _take_sqlite_write_lock(connection)
    return connection.execute(query).all()
