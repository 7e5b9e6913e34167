"""The DAGs run by Airflow itself (`dag.test()`), against local fakes of X and Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.store import Store
from reputation.store.mentions import reset_state
from reputation.store.schema import incidents, mentions, outbox
from tests.airflow.deployment import BROKEN_SOURCE_STATES, TWEETS, Deployment, deployment
from tests.scenario import REPLIES

STORY_ROWS = 1 + REPLIES + 3 + 2  # as in tests/integration/test_pipeline.py


@pytest.fixture(scope="module")
def dags(airflow_db: Path) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import BundleDagBag

    from tests.airflow.conftest import DAGS

    bag = BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")
    assert bag.import_errors == {}
    # A failing step would wait out its real retry delays inside dag.test(); fail at once instead.
    # (The retry settings themselves are checked in test_dagbag.py.)
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0
    return bag.dags


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with deployment(tmp_path, monkeypatch) as running:
        yield running


def states(run: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}


def run_ingest(dags: dict[str, Any], logical_date: datetime) -> tuple[str, dict[tuple[str, int], str]]:
    run = dags["reputation_ingest"].test(logical_date=logical_date)
    return str(run.state), states(run)


def test_ingest_stores_alerts_and_delivers_once_and_a_rerun_changes_nothing(
    dags: dict[str, Any], deployed: Deployment
) -> None:
    outcome, first = run_ingest(dags, datetime(2026, 11, 1, 12, 0, tzinfo=UTC))

    # One mapped task per enabled source; the broken one fails alone, at once (a missing file is not
    # worth retrying), and the steps after it still run; the run itself ends failed, as it should show.
    assert outcome == "failed"
    assert first == BROKEN_SOURCE_STATES
    assert deployed.count(mentions, mentions.c.source == "x") == TWEETS
    assert deployed.count(mentions, mentions.c.source == "story") == STORY_ROWS
    alerted = deployed.count(incidents)
    assert alerted >= 2  # the story's detractor and repeat complainer, at least
    assert len(deployed.slack.messages) == deployed.count(outbox) == alerted
    assert any("Detractor post by @maya_builds" in m["text"] for m in deployed.slack.messages)
    # The operations channel heard about the broken source, once, and the alert channel did not.
    assert len(deployed.ops.messages) == 1 and "collect" in deployed.ops.messages[0]["text"]

    # A retried or overlapping run, even one that re-fetches X from scratch, stores and sends nothing twice.
    store = Store.open(deployed.database_url)
    reset_state(store, "x")
    store.close()
    assert run_ingest(dags, datetime(2026, 11, 1, 12, 5, tzinfo=UTC)) == (outcome, first)
    assert deployed.count(mentions) == TWEETS + STORY_ROWS
    assert deployed.count(incidents) == alerted
    assert len(deployed.slack.messages) == alerted


def test_digest_writes_each_brands_page_and_housekeeping_keeps_incidents(
    dags: dict[str, Any], deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ingest(dags, datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    alerted = deployed.count(incidents)

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    digest = states(dags["reputation_digest"].test(logical_date=tomorrow))
    assert digest == {("brands", -1): "success", ("digest", 0): "success"}
    page = deployed.root / "digests" / f"digest-voltmart-{datetime.now(UTC).date().isoformat()}.html"
    assert page.is_file() and "Voltmart" in page.read_text(encoding="utf-8")

    # The X fake's tweets are from January; the story is from today. Keep 90 days.
    monkeypatch.setenv("REPUTATION_RETENTION_DAYS", "90")
    housekeeping = states(dags["reputation_housekeeping"].test(logical_date=tomorrow))
    assert housekeeping == {("retention", -1): "success"}
    assert deployed.count(mentions, mentions.c.source == "x") == 0
    assert deployed.count(mentions, mentions.c.source == "story") == STORY_ROWS
    assert deployed.count(incidents) == alerted
