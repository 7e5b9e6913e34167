"""`reputation outbox list/retry` and `doctor` for alerts Slack has not taken yet."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reputation.cli.app import app
from tests.fakes.slack import slack_receiver
from tests.scenario import write_story

runner = CliRunner()


def test_parked_alerts_are_listed_flagged_by_doctor_and_resent_by_an_operator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = write_story(tmp_path / "story.jsonl")
    config = tmp_path / "reputation.yaml"
    config.write_text(
        f"""
database_url: sqlite:///{tmp_path / "r.db"}
brands: [{{name: Voltmart, aliases: ["@Voltmart"]}}]
sources: [{{name: story, type: replay, options: {{path: "{story}"}}}}]
alerts: {{max_attempts: 1, rules: {{detractor: {{min_reach: 20000, min_cascade: 10}}}}}}
"""
    )
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        slack.fail_with = [404] * 10  # a revoked webhook: every alert is parked after its one attempt
        run = runner.invoke(app, ["run", "--config", str(config), "--json"])
        assert run.exit_code == 0, run.output
        raised = len(json.loads(run.stdout.strip().splitlines()[-1])["alerts"])
        listed = [
            json.loads(line)
            for line in runner.invoke(app, ["outbox", "list", "-c", str(config), "--json"]).stdout.splitlines()
        ]
        assert raised >= 1 and len(listed) == raised and {row["state"] for row in listed} == {"parked"}
        assert all("HTTP 404" in row["last_error"] for row in listed)

        doctor = runner.invoke(app, ["doctor", "--config", str(config)], terminal_width=400)
        assert doctor.exit_code == 1 and "alert outbox" in doctor.output and f"{raised} parked" in doctor.output

        slack.fail_with = []  # fixed
        retried = runner.invoke(app, ["outbox", "retry", "--all", "-c", str(config)])
        assert retried.exit_code == 0 and f"{raised} queued again, {raised} delivered now" in retried.output
        again = runner.invoke(app, ["outbox", "retry", "--all", "-c", str(config)])
        assert "0 queued again, 0 delivered now" in again.output
    assert Counter(message["text"] for message in slack.messages).most_common(1)[0][1] == 1
    assert len(slack.messages) == raised
    assert runner.invoke(app, ["outbox", "list", "-c", str(config), "--json"]).stdout.strip() == ""


def test_retry_needs_ids_or_all(tmp_path: Path) -> None:
    result = runner.invoke(app, ["outbox", "retry", "-c", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
