"""The Alembic migrations and the table definitions must describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from reputation.store import Store
from reputation.store.schema import metadata


def test_migrated_database_matches_the_schema_module(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
