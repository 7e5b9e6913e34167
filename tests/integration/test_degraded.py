"""Items a platform delivered without an optional field are kept and counted: in the cycle's
report, in source_runs, and in `reputation doctor` (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.testing import Reply
from reputation.cli.app import app
from reputation.cli.doctor import run_checks
from reputation.store import Store
from reputation.store.schema import source_runs
from tests.fakes.x import FakeX

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "x" / "search_recent.json"


def test_posts_without_author_or_time_are_stored_and_counted_as_degraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(RECORDED.read_text())
    database = f"sqlite:///{tmp_path / 'r.db'}"
    with FakeX() as fake:
        fake.play(Reply(200, body), then=Reply(200, {"meta": {"result_count": 0}}))
        config = tmp_path / "reputation.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database_url": database,
                    "brands": [{"name": "Tweepy", "aliases": ["tweepy"]}],
                    "sources": [{"name": "tweets", "type": "x", "query": "tweepy", "base_url": fake.url}],
                    "alerts": {"routes": []},
                }
            )
        )
        monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
        monkeypatch.setenv("X_BEARER_TOKEN", fake.bearer_token)
        ran = CliRunner().invoke(app, ["run", "--config", str(config), "--json"])
    assert ran.exit_code == 0, ran.output
    (source,) = json.loads(ran.stdout.strip().splitlines()[-1])["sources"]
    assert (source["fetched"], source["stored_new"], source["degraded"], source["skipped"]) == (10, 10, 10, 0)
    store = Store.open(database)
    try:
        with store.engine.connect() as connection:
            assert connection.scalar(select(source_runs.c.degraded)) == 10
    finally:
        store.close()
    checks = {check.name: check for check in run_checks(config)}
    assert checks["source tweets"].ok and "kept 10 items with a field missing" in checks["source tweets"].detail
