"""Persistence: SQLAlchemy Core on SQLite (embedded default) or PostgreSQL."""

from reputation.store.database import Store, as_utc, upsert

__all__ = ["Store", "as_utc", "upsert"]
