"""Opening the database: engine, automatic migrations, dialect-aware upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from reputation.errors import StoreError


def _describe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(unparseable URL)"


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time in the project is UTC-aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Store:
    """The project's database. Open it with `Store.open(url)`; migrations run on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        where = _describe(url)
        try:
            engine = create_engine(url, pool_pre_ping=True, future=True)
        except ValueError:
            # The message would quote the URL's pieces, and a mangled URL may put its password there.
            raise StoreError(f"database URL {where} is not usable: its port is not a number") from None
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise StoreError(f"database URL {where} is not usable: {error}") from None
        if engine.url.port is not None and not 0 < engine.url.port < 65536:
            engine.dispose()
            raise StoreError(f"database URL {where} is not usable: port {engine.url.port} is not in 1-65535")
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            with engine.connect():
                pass
            if migrate:
                store.migrate()
        except DBAPIError as error:
            engine.dispose()
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise StoreError(f"cannot reach the database at {where}: {reason}") from None
        except SQLAlchemyError as error:
            engine.dispose()
            raise StoreError(f"database at {where} failed: {type(error).__name__}: {error}") from None
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent, safe to race on PostgreSQL)."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(resources.files("reputation.store") / "migrations"))
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Two workers starting together must not both create the tables.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def available(self) -> Iterator[None]:
        """Turn a lost or refused database connection into a StoreError that says so."""
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreError(f"the database at {where} is unavailable: {reason}") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the digest read while a cycle writes; the busy timeout makes a
    # second process wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """INSERT ... ON CONFLICT on SQLite and PostgreSQL alike.

    `update` is either column names to take from the new row, or a function of
    the `excluded` row that returns column -> expression. None means do nothing
    on conflict.
    """
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # Parameters go in executemany form: the statement compiles once and is cached,
    # and SQLAlchemy batches the rows into multi-row INSERTs itself.
    statement = dialect.insert(table)
    if update is None:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    else:
        values = (
            update(statement.excluded)
            if callable(update)
            else {column: statement.excluded[column] for column in update}
        )
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=values)
    connection.execute(statement, list(rows))
