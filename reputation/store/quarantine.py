"""Rows the database refuses are set aside with their error, so a source never sticks.

A page is saved in one transaction with its cursor. When the database refuses
it, the page is saved again one row at a time, each in its own savepoint: the
rows it takes are stored, the ones it refuses go to the `quarantine` table with
the database's reason, and the cursor moves past both. Without this, one bad
value rolled back its whole page on every run and the source never advanced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from reputation.models import Mention, clean_label
from reputation.store.database import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import quarantine

ERROR_CHARS = 500


@dataclass
class SavedPage:
    stored: int = 0
    quarantined: list[str] = field(default_factory=list)  # "key: why", per refused row


def _reason(error: Exception) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"[:ERROR_CHARS]


def _store_failed(error: Exception) -> bool:
    """A lost or locked database is not the row's fault: the cycle stops and the page is fetched again."""
    return isinstance(error, OperationalError | InterfaceError)


def save_page(store: Store, source: str, batch: Sequence[Mention], state: dict[str, Any], now: datetime) -> SavedPage:
    try:
        with store.transaction() as connection:
            return SavedPage(stored=save_batch(connection, source, batch, state, now))
    except Exception as error:  # any refusal is narrowed down row by row below
        if _store_failed(error):
            raise
    page = SavedPage()
    # The last copy of a key wins, as in save_batch.
    unique = list({mention.key: mention for mention in batch}.values())
    with store.transaction() as connection:
        for mention in unique:
            try:
                with connection.begin_nested():
                    page.stored += save_batch(connection, source, [mention], state, now)
            except Exception as error:  # the refusal is kept with the row
                if _store_failed(error):
                    raise
                reason = _reason(error)
                _quarantine(connection, source, mention, reason, now)
                page.quarantined.append(f"{clean_label(mention.key)[:200]}: {reason}")
        save_batch(connection, source, [], state, now)  # the cursor moves past the refused rows too
    return page


def _quarantine(connection: Connection, source: str, mention: Mention, reason: str, now: datetime) -> None:
    connection.execute(
        quarantine.insert().values(
            source=source,
            mention_key=clean_label(mention.key)[:600],
            error=reason,
            # ASCII-escaped, so that whatever the store refused in the row cannot be refused again here.
            record=json.dumps(mention.to_json_dict(), ensure_ascii=True, default=str),
            quarantined_at=now,
        )
    )


def quarantined_counts(store: Store) -> dict[str, int]:
    """Rows in quarantine per source, for `doctor`."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(quarantine.c.source, func.count()).group_by(quarantine.c.source).order_by(quarantine.c.source)
        )
        return {str(source): int(count) for source, count in rows}
