"""Issues through the store: clustering per cycle, ids kept, human renames and merges, the change log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from reputation.config import Config
from reputation.embeddings import HashingEmbedder
from reputation.enrichment import Enricher
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import enrichments, issue_changes, issues
from tests.conftest import make_config
from tests.factories import BASE_TIME, mention

REFUNDS = [
    "Voltmart my refund is still not received, this is terrible",
    "Still no refund from Voltmart, refund not received after weeks, awful",
    "Refund not received. Voltmart ignoring me, horrible service",
]
CRASHES = [
    "Voltmart app crashes on login, useless and broken",
    "The Voltmart app crashes on login again, so frustrating",
]


def enrich(store: Store, config: Config, texts: list[str], start: int) -> dict[str, str | None]:
    batch = [mention(f"{start + i}", text, brand="Voltmart", minutes=start + i) for i, text in enumerate(texts)]
    with store.transaction() as connection:
        save_batch(connection, "test", batch, {}, BASE_TIME)
    enricher = Enricher(config)
    enricher._clusterer_embedder = HashingEmbedder()  # the unit tests cover MiniLM; here the store is under test
    enricher.run(store, BASE_TIME + timedelta(hours=1))
    with store.engine.connect() as connection:
        rows = connection.execute(select(enrichments.c.mention_key, enrichments.c.issue_id)).all()
    return {key: issue_id for key, issue_id in rows}


def test_issues_persist_with_centroids_and_keep_their_ids(store: Store) -> None:
    config = make_config()
    first = enrich(store, config, REFUNDS[:2] + CRASHES, 0)
    refund_id, crash_id = first["x:0"], first["x:2"]
    assert refund_id and crash_id and refund_id != crash_id and first["x:1"] == refund_id
    later = enrich(store, config, REFUNDS[2:], 10)
    assert later["x:10"] == refund_id
    with store.engine.connect() as connection:
        row = connection.execute(select(issues).where(issues.c.id == refund_id)).one()
    assert row.size == 3 and row.embedder == "hashing-4096" and len(row.centroid) == 4096 * 4
    assert "refund" in row.label or "received" in row.label
    assert "voltmart" not in row.label.lower() and row.examples


def test_configured_renames_and_merges_survive_reclustering(store: Store) -> None:
    config = make_config()
    first = enrich(store, config, REFUNDS[:2] + CRASHES, 0)
    refund_id, crash_id = str(first["x:0"]), str(first["x:2"])
    corrected = make_config(issues={"rename": {refund_id: "refunds missing"}, "merge": {crash_id: refund_id}})
    later = enrich(store, corrected, [*REFUNDS[2:], CRASHES[0] + " today"], 10)
    assert later["x:10"] == refund_id and later["x:11"] == refund_id
    with store.engine.connect() as connection:
        rows = {row.id: row for row in connection.execute(select(issues))}
        changes = connection.execute(select(issue_changes.c.issue_id, issue_changes.c.change)).all()
        moved = connection.execute(select(enrichments.c.issue_id).where(enrichments.c.mention_key == "x:2")).scalar()
    assert rows[refund_id].label == "refunds missing" and rows[refund_id].label_locked
    assert rows[crash_id].merged_into == refund_id and moved == refund_id
    assert (crash_id, "merged") in changes and (refund_id, "renamed") in changes
    # A third cycle neither renames again nor logs the same change twice.
    enrich(store, corrected, [REFUNDS[0] + " still"], 20)
    with store.engine.connect() as connection:
        assert len(connection.execute(select(issue_changes)).all()) == len(changes)
        assert connection.execute(select(issues.c.label).where(issues.c.id == refund_id)).scalar() == "refunds missing"
