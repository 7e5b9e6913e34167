"""The command line as users and scripts drive it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reputation.cli.app import app
from tests.scenario import write_story

runner = CliRunner()


def test_demo_prints_the_detractor_alert_and_writes_the_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Detractor post by @maya_builds" in result.output
    assert "dan_okafor" in result.output
    # The brand's own account answers; it is judged, not alerted on.
    assert "No answer to @dan_okafor's complaint" in result.output
    assert "Our reply to @maya_builds is canned" in result.output
    assert "Detractor post by @VoltmartHelp" not in result.output
    digest = (tmp_path / "demo" / "digest.html").read_text()
    for section in ("summary", "issues", "spreading", "incidents", "responses", "repeat-complainers"):
        assert f'id="{section}"' in digest
    assert 'id="collection-health"' in digest
    spreading = digest.split('id="spreading"')[1].split("</section>")[0]
    assert "@VoltmartHelp on x" not in spreading and "@maya_builds on x" in spreading
    # Twice in a row gives the same result: the demo starts from a fresh store.
    again = runner.invoke(app, ["demo", "--workdir", str(tmp_path / "demo")])
    assert again.exit_code == 0 and "Detractor post by @maya_builds" in again.output


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "reputation.yaml"
    path.write_text(body)
    return path


def test_run_twice_stores_once_and_alerts_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    story = write_story(tmp_path / "story.jsonl")
    config = write_config(
        tmp_path,
        f"""
database_url: sqlite:///{tmp_path / "r.db"}
brands: [{{name: Voltmart, aliases: ["@Voltmart"]}}]
sources: [{{name: story, type: replay, options: {{path: "{story}"}}}}]
alerts: {{rules: {{detractor: {{min_reach: 20000, min_cascade: 10}}}}}}
""",
    )
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    first = runner.invoke(app, ["run", "--config", str(config), "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    # 20 brand mentions in the story, less "Volt Mart", which this config has no alias for.
    assert report["sources"][0]["stored_new"] == 19 and report["sources"][0]["skipped"] == 1
    assert {a["rule"] for a in report["alerts"]} == {"detractor", "repeat_complainer"}
    second = json.loads(runner.invoke(app, ["run", "--config", str(config), "--json"]).stdout.strip().splitlines()[-1])
    assert second["sources"][0]["stored_new"] == 0 and second["alerts"] == []


def test_a_config_reads_its_files_from_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The database, a replay file and the digests are named relative to the config, run from elsewhere.
    folder = tmp_path / "conf"
    folder.mkdir()
    write_story(folder / "story.jsonl")
    config = write_config(
        folder,
        """
database_url: sqlite:///r.db
brands: [{name: Voltmart, aliases: ["@Voltmart"]}]
sources: [{name: story, type: replay, options: {path: story.jsonl}}, {name: again, type: replay, query: story.jsonl}]
digest: {output_dir: pages}
""",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    first = runner.invoke(app, ["run", "--config", "../conf/reputation.yaml", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert [s["error"] for s in report["sources"]] == [None, None]
    assert report["sources"][0]["stored_new"] == 19 and report["sources"][1]["stored_new"] == 0
    digest = runner.invoke(app, ["digest", "--config", str(config)])
    assert digest.exit_code == 0, digest.output
    assert list(elsewhere.iterdir()) == []
    assert (folder / "r.db").is_file() and len(list((folder / "pages").glob("digest-*.html"))) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("brands: [{name: A, timezone: Nowhere/Land}]", "brands[0].timezone: unknown time zone"),
        ("brands: [{name: A}]\nsources: [{name: s, type: nosuch}]", "no connector named 'nosuch'"),
        ("brands: [{name: A}]\ndatabase_url: postgresql+psycopg://127.0.0.1:1/x", "cannot reach the database"),
    ],
)
def test_bad_setups_fail_with_one_clear_paragraph(tmp_path: Path, body: str, message: str) -> None:
    config = write_config(tmp_path, body)
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_fetch_prints_json_lines(tmp_path: Path) -> None:
    story = write_story(tmp_path / "story.jsonl")
    result = runner.invoke(app, ["fetch", "replay", "--query", str(story), "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 3 and lines[0]["created_at"].endswith("Z")
    unknown = runner.invoke(app, ["fetch", "nosuch", "--query", "x"])
    assert unknown.exit_code == 1 and "no connector named 'nosuch'" in unknown.output


def test_connectors_list_shows_replay() -> None:
    result = runner.invoke(app, ["connectors", "list", "--json"])
    replay = next(row for row in json.loads(result.stdout) if row["name"] == "replay")
    assert replay["credentials"] == {} and replay["module"] == "connectors.replay:ReplayConnector"


def test_analyze_reads_the_brand_column_named_on_the_command_line(tmp_path: Path) -> None:
    source = tmp_path / "mentions.csv"
    rows = ["id,company,text", *(f"{n},Acme,Acme package never arrived again {n}" for n in range(3))]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    args = ["analyze", str(source), "--brand-column", "company", "--embedder", "hashing", "-o", str(output), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {issue["brand"] for issue in report["issues"]} == {"Acme"}
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert {line["brand"] for line in lines} == {"Acme"} and "acme" not in lines[0]["issue_label"].lower()
