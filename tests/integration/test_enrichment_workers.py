"""Two enrichment workers never enrich the same mention (property-based, real SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from reputation import enrichment
from reputation.enrichment import Enricher, EnrichReport
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import enrichments, mentions
from tests.conftest import make_config
from tests.factories import BASE_TIME, mention

WORDS = ["Voltmart", "refund", "never", "arrived", "love", "app", "crashes", "login", "thanks", "broken", "order"]
batch_ids = itertools.count()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=8).map(" ".join), min_size=1, max_size=120),
    batch_size=st.integers(1, 40),
)
def test_two_workers_enrich_each_pending_mention_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, texts: list[str], batch_size: int
) -> None:
    monkeypatch.setattr(enrichment, "BATCH_SIZE", batch_size)
    config = make_config(issues={"embedder": "hashing"})
    setup = Store.open(database_url)
    run = next(batch_ids)
    batch = [mention(f"w{run}-{i}", text, minutes=i) for i, text in enumerate(texts)]
    with setup.transaction() as connection:
        connection.execute(mentions.update().values(pending=False))  # earlier examples' rows are done
        save_batch(connection, "workers", batch, {}, BASE_TIME)
    workers = [Store.open(database_url) for _ in range(2)]
    enrichers = [Enricher(config), Enricher(config)]
    start = threading.Barrier(2)
    reports: list[EnrichReport] = []
    failures: list[BaseException] = []

    def work(store: Store, enricher: Enricher) -> None:
        start.wait()
        try:
            reports.append(enricher.run(store, BASE_TIME))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=work, args=pair) for pair in zip(workers, enrichers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for worker in workers:
        worker.close()
    assert failures == []
    assert sum(report.enriched for report in reports) == len(batch)  # not one mention twice, none missed
    keys = [m.key for m in batch]
    with setup.engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(enrichments.c.mention_key.in_(keys))) == len(batch)
        assert connection.scalar(select(func.count()).where(mentions.c.pending.is_(True))) == 0
    setup.close()
