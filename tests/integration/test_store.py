"""The store on real SQLite and real PostgreSQL (marker `postgres`)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from reputation.errors import StoreError
from reputation.store import Store
from reputation.store.mentions import count_mentions, load_state, save_batch
from reputation.store.schema import authors, mentions
from tests.factories import BASE_TIME, mention

EXPECTED_TABLES = {
    "mentions",
    "authors",
    "enrichments",
    "issues",
    "cascades",
    "connector_state",
    "source_runs",
    "incidents",
    "outbox",
    "alembic_version",
}


def test_migrations_create_every_table_and_are_idempotent(store: Store) -> None:
    assert EXPECTED_TABLES <= set(inspect(store.engine).get_table_names())
    store.migrate()  # a second start must be a no-op
    reopened = Store.open(store.engine.url.render_as_string(hide_password=False))
    assert EXPECTED_TABLES <= set(inspect(reopened.engine).get_table_names())
    reopened.close()


def test_upsert_stores_each_mention_once_and_keeps_raw(store: Store) -> None:
    batch = [mention("1"), mention("2"), mention("1", text="Voltmart lost my order")]
    with store.transaction() as connection:
        assert save_batch(connection, "src", batch, {"cursor": 2}, BASE_TIME) == 2
    with store.transaction() as connection:
        assert save_batch(connection, "src", [mention("2"), mention("3")], {"cursor": 3}, BASE_TIME) == 1
    assert count_mentions(store) == 3
    with store.engine.connect() as connection:
        raw = connection.scalar(select(mentions.c.raw).where(mentions.c.key == "x:1"))
        created = connection.scalar(select(mentions.c.created_at).where(mentions.c.key == "x:1"))
    assert raw == {"id": "1"}
    assert created is not None
    assert load_state(store, "src") == {"cursor": 3}


def test_an_edit_replaces_text_and_marks_for_enrichment(store: Store) -> None:
    with store.transaction() as connection:
        save_batch(connection, "src", [mention("r1", text="Voltmart is fine", rating=3)], {}, BASE_TIME)
        connection.execute(mentions.update().values(pending=False))
    with store.transaction() as connection:
        save_batch(connection, "src", [mention("r1", text="Voltmart never refunded me", rating=1)], {}, BASE_TIME)
    with store.engine.connect() as connection:
        row = connection.execute(select(mentions).where(mentions.c.key == "x:r1")).one()
    assert (row.text, row.rating, row.pending) == ("Voltmart never refunded me", 1, True)


def test_cursor_and_mentions_commit_together(store: Store) -> None:
    with store.transaction() as connection:
        save_batch(connection, "src", [mention("1")], {"page": 1}, BASE_TIME)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), store.transaction() as connection:
        save_batch(connection, "src", [mention("2")], {"page": 2}, BASE_TIME)
        raise Crash
    assert load_state(store, "src") == {"page": 1}
    assert count_mentions(store) == 1


def test_author_follower_count_is_kept_when_a_later_payload_lacks_it(store: Store) -> None:
    from reputation.models import Author

    with store.transaction() as connection:
        save_batch(connection, "s", [mention("1", author=Author(id="a", handle="ann", followers=900))], {}, BASE_TIME)
        save_batch(connection, "s", [mention("2", author=Author(id="a", handle="ann", followers=None))], {}, BASE_TIME)
    with store.engine.connect() as connection:
        assert connection.scalar(select(authors.c.followers).where(authors.c.key == "x:a")) == 900
        assert connection.scalar(select(func.count()).select_from(authors)) == 1


def test_hostile_text_is_stored_verbatim(store: Store) -> None:
    nasty = "Voltmart'; DROP TABLE mentions; -- <!channel> \u202e\u200b " + "x" * 100_000
    with store.transaction() as connection:
        save_batch(connection, "s", [mention("1", text=nasty)], {}, BASE_TIME)
    with store.engine.connect() as connection:
        assert connection.scalar(select(mentions.c.text)) == nasty


def test_unreachable_database_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError) as raised:
        Store.open("postgresql+psycopg://me:s3cret-pw@127.0.0.1:1/nowhere")
    message = str(raised.value)
    assert "cannot reach the database at postgresql+psycopg://me:***@127.0.0.1:1/nowhere" in message
    assert "s3cret-pw" not in message


def test_unusable_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="is not usable"):
        Store.open("nosuchdb://x")
