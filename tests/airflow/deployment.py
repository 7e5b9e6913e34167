"""A small deployment for the DAG tests: the X fake, a replayed story, Slack receivers, connections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from reputation.store import Store
from tests.fakes.slack import SlackReceiver, slack_receiver
from tests.fakes.x import FakeX
from tests.scenario import write_story

TWEETS = 6
# An ingest run whose third source is broken (a missing file): it fails alone and at once, the steps
# after it still run, and the run's last task shows the failure. Shared by dag.test() and the scheduler.
BROKEN_SOURCE_STATES = {
    ("sources", -1): "success",
    ("collect", 0): "success",
    ("collect", 1): "success",
    ("collect", 2): "failed",
    ("enrich", -1): "success",
    ("detect", -1): "success",
    ("deliver", -1): "success",
    ("outcome", -1): "upstream_failed",
}


@dataclass
class Deployment:
    root: Path
    database_url: str
    x: FakeX
    slack: SlackReceiver
    ops: SlackReceiver

    def count(self, table: Any, *where: Any) -> int:
        store = Store.open(self.database_url)
        try:
            with store.engine.connect() as connection:
                return int(connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)
        finally:
            store.close()


def _connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


@contextmanager
def deployment(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with ExitStack() as stack:
        x = stack.enter_context(FakeX())
        slack = stack.enter_context(slack_receiver())
        ops = stack.enter_context(slack_receiver())
        x.publish(TWEETS)
        story = write_story(root / "story.jsonl", now=datetime.now(UTC), bad_line=False)
        config = {
            "brands": [
                {"name": "Voltmart", "aliases": ["Volt Mart", "@Voltmart"], "keywords": {"include": ["voltbook*"]}}
            ],
            "sources": [
                {"name": "x", "type": "x", "query": "voltmart", "base_url": x.url},
                {"name": "story", "type": "replay", "options": {"path": str(story)}},
                {"name": "broken", "type": "replay", "options": {"path": str(root / "missing.jsonl")}},
                {"name": "paused", "type": "replay", "enabled": False, "options": {"path": str(story)}},
            ],
            "alerts": {"console": False, "rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
            "digest": {"output_dir": str(root / "digests")},
        }
        (root / "reputation.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        database_url = f"sqlite:///{root / 'reputation.db'}"
        for name in ("X_BEARER_TOKEN", "SLACK_WEBHOOK_URL", "REPUTATION_DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REPUTATION_CONFIG", str(root / "reputation.yaml"))
        # Every secret reaches the pipeline through an Airflow connection, none through the environment.
        _connection(monkeypatch, "x", conn_type="generic", password=x.bearer_token)
        _connection(monkeypatch, "slack_alerts", conn_type="slackwebhook", password=slack.url)
        _connection(monkeypatch, "slack_ops", conn_type="slackwebhook", password=ops.url)
        _connection(monkeypatch, "reputation_db", conn_type="generic", extra={"url": database_url})
        yield Deployment(root, database_url, x, slack, ops)
