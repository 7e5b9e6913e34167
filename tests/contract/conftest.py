"""The real store behind the contract suite's durability check.

`connectors.testing` imports neither the pipeline nor the store, so the check that
a run failing after its first page loses nothing gets its `collect` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.retry import RetryPolicy
from connectors.testing import BRAND, Collected, CollectIntoStore
from reputation import pipeline
from reputation.config import parse_config
from reputation.connector import Connector, SourceSettings
from reputation.store import Store
from reputation.store.schema import mentions as mentions_table


@pytest.fixture
def collect_into_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CollectIntoStore]:
    store = Store.open(f"sqlite:///{tmp_path / 'contract.db'}")

    def collect(connector: Callable[..., Connector], settings: SourceSettings) -> Collected:
        # `collect` finds connectors by entry point; hand it the one under test
        # (registered or not yet) with a retry policy that never sleeps.
        monkeypatch.setattr(pipeline, "load_connector", lambda kind: _Factory(connector))
        config = parse_config(
            {
                "brands": [{"name": BRAND, "aliases": [f"@{BRAND}"]}],
                "sources": [
                    {
                        "name": settings.name,
                        "type": connector.platform,  # type: ignore[attr-defined]
                        "query": settings.query,
                        "base_url": settings.base_url,
                        "options": dict(settings.options),
                    }
                ],
            },
            "contract.yaml",
        )
        result = pipeline.collect(store, config, config.sources[0], dict(settings.env))
        with store.engine.connect() as connection:
            in_store = int(connection.scalar(select(func.count()).select_from(mentions_table)) or 0)
        return Collected(stored=result.run.stored, error=result.run.error, in_store=in_store)

    yield collect
    store.close()


class _Factory:
    def __init__(self, connector: Callable[..., Connector]) -> None:
        self.connector = connector
        self.platform: str = connector.platform  # type: ignore[attr-defined]
        self.credentials: tuple[str, ...] = connector.credentials  # type: ignore[attr-defined]

    def __call__(self, settings: SourceSettings) -> Connector:
        return self.connector(settings, retry=RetryPolicy(max_attempts=1, sleep=_no_sleep))


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a test connector tried to sleep {seconds}s")
