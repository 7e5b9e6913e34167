"""The DAGs under a real scheduler, started the README's way: `make airflow-standalone`.

Standalone starts the scheduler, dag-processor, triggerer and api-server as separate
`airflow` processes (LocalExecutor, SQLite metadata) in a scratch AIRFLOW_HOME, with a
PATH that does not hold the venv (as in a fresh shell that activated nothing). Runs are
triggered with `airflow dags trigger` and no logical date, as a person or a REST client
does, and watched through the REST API. Secrets reach the tasks only as Airflow
connections (`AIRFLOW_CONN_*`); the project's store is a scratch PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from reputation.cli.bench import scratch_postgres
from reputation.store import Store
from reputation.store.schema import incidents, mentions
from tests.airflow.deployment import BROKEN_SOURCE_STATES
from tests.conftest import POSTGRES_URL
from tests.fakes.slack import SlackReceiver, slack_receiver
from tests.fakes.x import FakeX
from tests.scenario import write_story

pytestmark = [pytest.mark.scheduler, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv the tests run in; never put on the standalone's PATH
TWEETS = 6
START_BUDGET = 240.0  # seconds for standalone to migrate its database and parse the DAGs, on a loaded machine
RUN_BUDGET = 300.0  # seconds for one DAG run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def path_without_the_venv() -> str:
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN)


@dataclass
class Airflow:
    """A running standalone and what the test needs to drive it."""

    home: Path
    env: dict[str, str]
    api: str
    process: subprocess.Popen[bytes]
    log: Path
    root: Path
    database_url: str
    x: FakeX
    slack: SlackReceiver
    ops: SlackReceiver
    _token: str = ""

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    def trigger(self, dag_id: str) -> str:
        """`airflow dags trigger DAG` without a logical date; returns the run id."""
        answer = json.loads(self.cli("dags", "trigger", dag_id, "--output", "json").strip().splitlines()[-1])
        assert answer[0]["logical_date"] is None
        run_id: str = answer[0]["dag_run_id"]
        return run_id

    def get(self, path: str) -> Any:
        if not self._token:
            passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
            body = json.dumps({"username": "admin", "password": passwords["admin"]}).encode()
            request = urllib.request.Request(
                f"{self.api}/auth/token", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                self._token = json.loads(response.read())["access_token"]
        request = urllib.request.Request(f"{self.api}/api/v2{path}", headers={"Authorization": f"Bearer {self._token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def wait_for(self, dag_id: str, run_id: str) -> tuple[str, dict[tuple[str, int], str]]:
        """The run's final state and each task instance's, once the run has finished."""
        deadline = time.monotonic() + RUN_BUDGET
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"standalone exited: {self.tail()}"
            run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            tasks = {(t["task_id"], t["map_index"]): t["state"] for t in instances}
            if run["state"] in ("success", "failed"):
                return run["state"], tasks
            # Nothing here is worth a retry (they back off for minutes): a task waiting for one is a failure.
            retrying = [key for key, task_state in tasks.items() if task_state == "up_for_retry"]
            assert not retrying, f"{dag_id}: {retrying} failed and wait for a retry: {self.tail()}"
            time.sleep(2)
        raise AssertionError(f"{dag_id} {run_id} did not finish within {RUN_BUDGET:.0f}s: {self.tail()}")

    def count(self, table: Any) -> int:
        store = Store.open(self.database_url)
        try:
            with store.engine.connect() as connection:
                return int(connection.scalar(select(func.count()).select_from(table)) or 0)
        finally:
            store.close()

    def write_config(self, *, broken_source: bool) -> None:
        """The configuration the `sources` task reads at run time, so it can change between runs."""
        sources: list[dict[str, Any]] = [
            {"name": "x", "type": "x", "query": "voltmart", "base_url": self.x.url},
            {"name": "story", "type": "replay", "options": {"path": str(self.root / "story.jsonl")}},
        ]
        if broken_source:
            sources.append({"name": "broken", "type": "replay", "options": {"path": str(self.root / "missing.jsonl")}})
        config = {
            "brands": [
                {"name": "Voltmart", "aliases": ["Volt Mart", "@Voltmart"], "keywords": {"include": ["voltbook*"]}}
            ],
            "sources": sources,
            "alerts": {"console": False, "rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
            "digest": {"output_dir": str(self.root / "digests")},
        }
        (self.root / "reputation.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


def connection(**fields: Any) -> str:
    return json.dumps(fields)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Standalone and every component it started share one process group: end them all, then wait."""
    for sig, grace in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The group may outlive its leader for a moment (task runners finishing): give it the same grace.
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    root = tmp_path_factory.mktemp("scheduler")
    home = root / "airflow-home"
    with FakeX() as x, slack_receiver() as slack, slack_receiver() as ops:
        x.publish(TWEETS)
        write_story(root / "story.jsonl", now=datetime.now(UTC), bad_line=False)
        database_url = next(database := scratch_postgres(POSTGRES_URL, prefix="reputation_scheduler"))
        api_port = free_port()
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW", "REPUTATION_", "X_", "SLACK_", "VIRTUAL_ENV"))
        }
        env = {
            **inherited,
            "PATH": path_without_the_venv(),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__CORE__PARALLELISM": "4",  # two shared cores: a few task processes at a time
            "REPUTATION_CONFIG": str(root / "reputation.yaml"),
            # Runs start only when triggered here, so every run the test sees is one it started.
            "REPUTATION_INGEST_SCHEDULE": "none",
            "REPUTATION_DIGEST_SCHEDULE": "none",
            "REPUTATION_HOUSEKEEPING_SCHEDULE": "none",
            "AIRFLOW_CONN_X": connection(conn_type="generic", password=x.bearer_token),
            "AIRFLOW_CONN_SLACK_ALERTS": connection(conn_type="slackwebhook", password=slack.url),
            "AIRFLOW_CONN_SLACK_OPS": connection(conn_type="slackwebhook", password=ops.url),
            "AIRFLOW_CONN_REPUTATION_DB": connection(conn_type="generic", extra={"url": database_url}),
        }
        log = root / "standalone.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                # `--old-file`: the venv is already installed; the test must never reinstall it.
                [
                    "make",
                    "--no-print-directory",
                    f"--old-file={BIN.parent / '.installed'}",
                    f"VENV={BIN.parent}",
                    f"AIRFLOW_HOME={home}",
                    "airflow-standalone",
                ],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        running = Airflow(home, env, f"http://127.0.0.1:{api_port}", process, log, root, database_url, x, slack, ops)
        running.write_config(broken_source=True)
        try:
            deadline = time.monotonic() + START_BUDGET
            while True:
                assert process.poll() is None, f"standalone exited with {process.returncode}: {running.tail()}"
                # A component that cannot start makes standalone wait forever rather than exit: say so at once.
                assert "FileNotFoundError" not in running.tail(), running.tail()
                try:
                    parsed = {dag["dag_id"] for dag in running.get("/dags")["dags"]}
                except (OSError, FileNotFoundError):
                    parsed = set()
                if {"reputation_ingest", "reputation_digest"} <= parsed:
                    break
                assert time.monotonic() < deadline, f"no DAGs after {START_BUDGET:.0f}s: {running.tail()}"
                time.sleep(2)
            running.cli("dags", "unpause", "reputation_ingest")
            running.cli("dags", "unpause", "reputation_digest")
            yield running
        finally:
            stop(process)
            database.close()


def test_ingest_alerts_once_a_failed_source_fails_the_run_and_a_second_run_sends_nothing(airflow: Airflow) -> None:
    state, tasks = airflow.wait_for("reputation_ingest", airflow.trigger("reputation_ingest"))

    # The broken source failed at once (a missing file is not worth retrying); the others were collected,
    # the alerts went out, and the run itself is red.
    assert state == "failed", airflow.tail()
    assert tasks == BROKEN_SOURCE_STATES
    assert airflow.count(mentions) > TWEETS
    alerted = airflow.count(incidents)
    assert alerted >= 2  # the story's detractor and repeat complainer, at least
    assert len(airflow.slack.messages) == alerted
    assert any("Detractor post by @maya_builds" in m["text"] for m in airflow.slack.messages)
    # Operations heard about the failed task through the `slack_ops` connection.
    assert [m["text"] for m in airflow.ops.messages if "collect" in m["text"]], airflow.ops.messages

    # Fixed: the next run is green and sends nothing twice.
    airflow.write_config(broken_source=False)
    state, tasks = airflow.wait_for("reputation_ingest", airflow.trigger("reputation_ingest"))
    assert state == "success", airflow.tail()
    assert set(tasks.values()) == {"success"} and len(tasks) == 7
    assert airflow.count(incidents) == alerted
    assert len(airflow.slack.messages) == alerted


def test_a_digest_triggered_without_a_logical_date_covers_the_day_before_it_ran(airflow: Airflow) -> None:
    started = datetime.now(UTC)
    state, tasks = airflow.wait_for("reputation_digest", airflow.trigger("reputation_digest"))
    assert state == "success", airflow.tail()
    assert tasks == {("brands", -1): "success", ("digest", 0): "success"}
    days = {(started - timedelta(days=1)).date(), (datetime.now(UTC) - timedelta(days=1)).date()}
    pages = sorted(p.name for p in (airflow.root / "digests").glob("digest-voltmart-*.html"))
    assert pages and set(pages) <= {f"digest-voltmart-{day.isoformat()}.html" for day in days}
