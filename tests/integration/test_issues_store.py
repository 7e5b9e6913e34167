"""Issues through the store: clustering per cycle, ids kept, human renames and merges, the change log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from reputation.config import Config
from reputation.enrichment import Enricher
from reputation.issues import JOIN_SIMILARITY, splits
from reputation.issues.lifecycle import recent_members
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import enrichments, issue_changes, issues
from reputation.text.embeddings import HashingEmbedder
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
    enricher.issues._clusterer_embedder = HashingEmbedder()  # the unit tests cover MiniLM; here the store is under test
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


def test_an_issue_that_drifted_into_two_problems_is_split_and_its_posts_follow(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    refunds = [f"Voltmart returned {w} order {when}, refund still not received, awful" for w, when in _VARIANTS]
    crashes = [f"Voltmart app crashes at login on {device}, screen {fault}, useless" for device, fault in _FAULTS]
    config = make_config()
    # As an issue clustered before splits existed (or drifted over many cycles): both problems in one.
    monkeypatch.setitem(JOIN_SIMILARITY, "hashing-4096", -0.5)
    monkeypatch.setattr(splits, "MAX_REVIEWS_PER_CYCLE", 0)
    first = enrich(store, config, refunds[:20] + crashes[:12], 0)
    (drifted,) = set(first.values())
    monkeypatch.undo()

    later = enrich(store, config, [refunds[20]], 100)
    assert later["x:100"] == drifted  # the larger part keeps the id
    with store.engine.connect() as connection:
        changes = connection.execute(select(issue_changes).where(issue_changes.c.change == "split")).all()
        rows = {row.id: row for row in connection.execute(select(issues))}
    (split,) = changes
    assert split.issue_id == drifted and split.other_id in rows and split.detail.startswith("12 recent posts left")
    assert {later[f"x:{20 + i}"] for i in range(12)} == {split.other_id}
    assert {later[f"x:{i}"] for i in range(20)} == {drifted}
    assert (rows[drifted].size, rows[split.other_id].size) == (21, 12)
    assert rows[drifted].reviewed_size == 21 and rows[split.other_id].merged_into is None
    assert "crash" in rows[split.other_id].label and "refund" in rows[drifted].label
    # Checked once: the next small cycle neither splits again nor merges the parts back.
    enrich(store, config, [refunds[21]], 110)
    with store.engine.connect() as connection:
        assert len(connection.execute(select(issue_changes)).all()) == 1


_FAULTS = [
    (device, fault)
    for device in ("android", "iphone", "ipad", "pixel")
    for fault in ("froze", "closes instantly", "shows a blank page", "logs me out", "spins forever")
]
_VARIANTS = [
    (who, when)
    for when in ("three weeks ago", "last month", "in december", "two weeks ago", "on monday", "before christmas")
    for who in ("my", "our", "the", "his")
]


def test_an_issues_posts_are_found_by_index_when_most_posts_have_no_issue(store: Store) -> None:
    # Most posts are no complaint. With the NULLs in the index, SQLite's statistics made every
    # issue look a million posts big, and a split check scanned the whole history (bench: 2x slower).
    rows = [mention(f"h{i}", f"thanks Voltmart {i}", brand="Voltmart", minutes=i) for i in range(3000)]
    with store.transaction() as connection:
        save_batch(connection, "test", rows, {}, BASE_TIME)
        connection.execute(
            insert(enrichments),
            [
                {
                    "mention_key": f"x:h{i}",
                    "sentiment": "positive",
                    "compound": 0.5,
                    "confidence": 0.9,
                    "intents": [],
                    "needs_help": False,
                    "issue_id": "iss-a" if i < 3 else None,
                    "cascade_key": f"x:h{i}",
                    "enriched_at": BASE_TIME,
                }
                for i in range(3000)
            ],
        )
        connection.exec_driver_sql("ANALYZE")
    query = recent_members("iss-a")
    with store.engine.connect() as connection:
        assert [row.key for row in connection.execute(query)] == ["x:h2", "x:h1", "x:h0"]
        sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
        if store.dialect == "sqlite":
            explain = "EXPLAIN QUERY PLAN "
        else:  # a table this small may be read whole on PostgreSQL; what matters is that the partial index fits
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # until this transaction ends
            explain = "EXPLAIN "
        plan = " ".join(str(row) for row in connection.exec_driver_sql(explain + sql))
    assert "ix_enrichments_issue_id" in plan, plan
