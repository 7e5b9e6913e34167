"""Shared fixtures: real SQLite and real PostgreSQL stores, and a small config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reputation.cli.bench import scratch_postgres
from reputation.config import Config, parse_config
from reputation.store import Store

POSTGRES_URL = os.environ.get("REPUTATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the real server, dropped afterwards."""
    yield from scratch_postgres(POSTGRES_URL, prefix="reputation_test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reputation.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def make_config(**overrides: object) -> Config:
    data: dict[str, object] = {
        "brands": [{"name": "Voltmart", "aliases": ["Volt Mart", "@Voltmart"], "keywords": {"include": ["voltbook*"]}}],
        "sources": [],
    }
    data.update(overrides)
    return parse_config(data, "test.yaml")


@pytest.fixture
def config() -> Config:
    return make_config()
