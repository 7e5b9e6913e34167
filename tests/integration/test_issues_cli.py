"""`reputation issues list` and `show`: where people find the ids they rename and merge by."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from reputation.cli.app import app
from reputation.store import Store
from reputation.store.schema import issue_changes, issues

runner = CliRunner()
NOW = datetime.now(UTC)


def issue(issue_id: str, label: str, size: int, days_ago: float, **fields: object) -> dict[str, object]:
    return {
        "id": issue_id,
        "brand": "Voltmart",
        "label": label,
        "label_locked": False,
        "terms": {},
        "size": size,
        "created_at": NOW - timedelta(days=days_ago + 2),
        "last_seen_at": NOW - timedelta(days=days_ago),
        "merged_into": None,
        "embedder": "hashing-4096",
        "examples": [],
        **fields,
    }


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    store = Store.open(url)
    with store.transaction() as connection:
        connection.execute(
            insert(issues),
            [
                issue("iss-refund", "refund not received", 63, 0.1, examples=["Where is my refund?\n\nthree weeks"]),
                issue("iss-crash", "[b]crash[/b]", 12, 0.2),
                issue("iss-old", "hinge", 40, 45),  # quiet for over 30 days: no longer matched
                issue("iss-dup", "refund", 5, 1, merged_into="iss-refund"),
                issue("iss-named", "refunds missing", 2, 1, label_locked=True),
            ],
        )
        connection.execute(
            insert(issue_changes),
            [
                {
                    "at": NOW - timedelta(days=1),
                    "issue_id": "iss-dup",
                    "change": "merged",
                    "other_id": "iss-refund",
                    "detail": "0.612",
                },
                {
                    "at": NOW,
                    "issue_id": "iss-refund",
                    "change": "split",
                    "other_id": "iss-crash",
                    "detail": "12 recent posts left; similarity 0.214",
                },
            ],
        )
    store.close()
    path = tmp_path / "reputation.yaml"
    path.write_text(f"database_url: {url}\nbrands: [{{name: Voltmart}}]\n")
    return path


def test_list_shows_live_issues_biggest_first(config: Path) -> None:
    result = runner.invoke(app, ["issues", "list", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [entry["id"] for entry in found] == ["iss-refund", "iss-crash", "iss-named"]
    assert found[2]["named_by_a_person"] is True and found[0]["posts"] == 63
    table = runner.invoke(app, ["issues", "list", "--config", str(config)])
    assert "iss-refund" in table.stdout and "refund not received" in table.stdout
    assert "[b]crash[/b]" in table.stdout  # a label is text, never rich markup
    assert "refunds missing (named)" in table.stdout
    one = runner.invoke(app, ["issues", "list", "--config", str(config), "--limit", "1", "--json"])
    assert len(one.stdout.splitlines()) == 1


def test_show_tells_an_issues_story_from_its_side(config: Path) -> None:
    result = runner.invoke(app, ["issues", "show", "iss-refund", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "iss-refund: refund not received" in result.stdout and "63 posts" in result.stdout
    assert "\u201cWhere is my refund? three weeks\u201d" in result.stdout
    assert "iss-dup merged into it (similarity 0.612)" in result.stdout
    assert "split: iss-crash left it (12 recent posts left; similarity 0.214)" in result.stdout
    crash = json.loads(runner.invoke(app, ["issues", "show", "iss-crash", "--config", str(config), "--json"]).stdout)
    assert [c["description"] for c in crash["changes"]] == [
        "split off iss-refund (12 recent posts left; similarity 0.214)"
    ]
    merged = runner.invoke(app, ["issues", "show", "iss-dup", "--config", str(config)])
    assert "merged into iss-refund" in merged.stdout


def test_unknown_ids_and_brands_are_named(config: Path) -> None:
    missing = runner.invoke(app, ["issues", "show", "iss-nope", "--config", str(config)])
    assert missing.exit_code == 1 and "no issue 'iss-nope'" in missing.output
    assert "reputation issues list" in missing.output
    brand = runner.invoke(app, ["issues", "list", "--config", str(config), "--brand", "Nope"])
    assert brand.exit_code == 1 and "unknown brand 'Nope'" in brand.output and "Voltmart" in brand.output
