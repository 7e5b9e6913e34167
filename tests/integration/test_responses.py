"""`reputation responses` over a replayed scenario of threads with a support handle, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.responses_scenario import BRAND, HANDLE, START, Truth, scenario
from reputation.cli.app import app
from reputation.config import parse_config
from reputation.enrichment import Enricher
from reputation.pipeline import collect, utcnow
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import customer_threads
from reputation.store import Store

runner = CliRunner()


def write_scenario(tmp_path: Path, seed: int, threads: int) -> tuple[Path, dict[str, Truth]]:
    lines, truths = scenario(seed=seed, threads=threads)
    path = tmp_path / "threads.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path, truths


def test_responses_json_reads_every_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, truths = write_scenario(tmp_path, seed=21, threads=60)
    config = tmp_path / "reputation.yaml"
    config.write_text(
        f"""
database_url: sqlite:///{tmp_path / "r.db"}
brands: [{{name: {BRAND}, owned_accounts: ["x:{HANDLE.lower()}"]}}]
sources: [{{name: threads, type: replay, options: {{path: "{path}"}}}}]
issues: {{embedder: hashing}}
"""
    )
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["run", "--config", str(config)]).exit_code == 0
    since = (START - timedelta(hours=1)).isoformat()
    result = runner.invoke(app, ["responses", "--config", str(config), "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["thread"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == set(truths)
    for key, truth in truths.items():
        row = rows[key]
        assert set(row) >= {"author", "brand", "opened_at", "responder", "canned", "asked_again", "outcome"}
        assert row["brand"] == BRAND
        expected = truth.first_response_seconds
        if expected is None:
            assert row["first_response_seconds"] is None and row["responder"] is None
        else:
            assert abs(row["first_response_seconds"] - expected) <= 60
            assert row["responder"] == truth.responder
    for flag in ("canned", "asked_again"):
        found = {key for key, row in rows.items() if row[flag]}
        true = {key for key, truth in truths.items() if getattr(truth, flag)}
        assert true, flag
        assert len(found & true) >= 0.9 * len(true), flag
        assert len(found - true) <= 0.1 * max(len(found), 1), flag
    table = runner.invoke(app, ["responses", "--config", str(config), "--since", since, "--brand", BRAND])
    assert table.exit_code == 0 and "unanswered" in table.stdout
    unknown = runner.invoke(app, ["responses", "--config", str(config), "--brand", "Nope"])
    assert unknown.exit_code == 1 and "unknown brand 'Nope'" in unknown.output
    bad = runner.invoke(app, ["responses", "--config", str(config), "--since", "last week"])
    assert bad.exit_code == 1 and "--since" in bad.output


def test_threads_read_the_same_on_both_stores(store: Store, tmp_path: Path) -> None:
    path, truths = write_scenario(tmp_path, seed=22, threads=30)
    config = parse_config(
        {
            "brands": [{"name": BRAND, "owned_accounts": [f"x:{HANDLE}"]}],
            "sources": [{"name": "threads", "type": "replay", "options": {"path": str(path)}}],
            "issues": {"embedder": "hashing"},
        },
        "test.yaml",
    )
    collect(store, config, config.sources[0], env={})
    Enricher(config, predict=None).run(store, utcnow())
    with store.engine.connect() as connection:
        threads = customer_threads(connection, OwnedAccounts.from_config(config), START - timedelta(hours=1), BRAND)
        later = customer_threads(connection, OwnedAccounts.from_config(config), START + timedelta(days=30), BRAND)
    assert {thread.key for thread in threads} == set(truths)
    assert later == []
    unanswered = {thread.key for thread in threads if thread.answer is None}
    assert unanswered == {key for key, truth in truths.items() if not truth.answered}
