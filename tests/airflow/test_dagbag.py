"""Airflow parses every DAG file, quickly, without importing the project, with the promised settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from tests.airflow.conftest import AIRFLOW_ENV, DAGS

DAG_IDS = {"reputation_ingest", "reputation_digest", "reputation_housekeeping"}
PARSE_BUDGET = timedelta(seconds=5)  # a guard against work at parse time, not a benchmark

PARSE = """
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1], bundle_name="dags-folder")
print(json.dumps({
    "errors": bag.import_errors,
    "dags": sorted(bag.dags),
    "seconds": {stat.file: stat.duration.total_seconds() for stat in bag.dagbag_stats},
    "project_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("reputation", "connectors", "alerts")),
}))
"""


SCHEDULE = PARSE.replace('"dags": sorted(bag.dags)', '"dags": bag.dags["reputation_ingest"].schedule')


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    """Parse in a fresh interpreter, as the dag-processor does, so what it imports can be seen."""
    result = subprocess.run(
        [sys.executable, "-c", PARSE, str(DAGS)],
        env={**os.environ, **AIRFLOW_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_every_dag_file_loads_without_import_errors(parsed: dict[str, Any]) -> None:
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == DAG_IDS
    assert set(parsed["seconds"]) == {f"{dag_id}.py" for dag_id in DAG_IDS}  # _settings.py is ignored


def test_each_file_parses_within_budget(parsed: dict[str, Any]) -> None:
    for file, seconds in parsed["seconds"].items():
        assert seconds < PARSE_BUDGET.total_seconds(), f"{file} took {seconds:.2f}s to parse"


def test_parsing_imports_no_project_module(parsed: dict[str, Any]) -> None:
    assert parsed["project_modules"] == []


@pytest.fixture(scope="module")
def dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder").dags


def test_runs_never_pile_up_or_catch_up(dags: dict[str, Any]) -> None:
    for dag in dags.values():
        assert dag.catchup is False and dag.max_active_runs == 1, dag.dag_id
    assert dags["reputation_ingest"].schedule == "*/5 * * * *"


def test_tasks_retry_with_exponential_backoff_and_tell_operations(dags: dict[str, Any]) -> None:
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    for dag in dags.values():
        for task in dag.tasks:
            assert task.retry_exponential_backoff, task.task_id
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            notifiers = [c for c in callbacks if isinstance(c, SlackWebhookNotifier)]
            assert [n.slack_webhook_conn_id for n in notifiers] == ["slack_ops"], task.task_id
    collect = dags["reputation_ingest"].get_task("collect")
    assert collect.retries == 3 and collect.retry_delay == timedelta(seconds=30)


def test_the_ingest_schedule_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCHEDULE,
            str(DAGS),
        ],
        env={**os.environ, **AIRFLOW_ENV, "REPUTATION_INGEST_SCHEDULE": "*/15 * * * *"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1])["dags"] == "*/15 * * * *"
