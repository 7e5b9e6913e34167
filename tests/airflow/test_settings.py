"""Airflow connections become the settings the steps receive; a failure's `retryable` becomes the retry decision."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _settings
import pytest


def connection(**fields: Any) -> SimpleNamespace:
    values: dict[str, Any] = dict.fromkeys(("host", "login", "password", "schema", "port"))
    values["extra_dejson"] = {}
    values.update(fields)
    return SimpleNamespace(**values)


def test_connections_map_onto_the_clis_variables() -> None:
    defined = {
        "reddit": connection(login="client-id", password="client-secret", extra_dejson={"user_agent": "rep/1.0"}),
        "x": connection(password="bearer"),
        "slack_alerts": connection(host="https://hooks.slack.com/services", password="T0/B0/XX"),
        "reputation_db": connection(host="db", port=5432, login="rep", password="p@ss", schema="reputation"),
    }
    env = _settings.env_from_connections(defined.get, base={"KEPT": "1", "X_BEARER_TOKEN": "from-env"})
    assert env == {
        "KEPT": "1",
        "REDDIT_CLIENT_ID": "client-id",
        "REDDIT_CLIENT_SECRET": "client-secret",
        "REDDIT_USER_AGENT": "rep/1.0",
        "X_BEARER_TOKEN": "bearer",  # the connection wins over the process environment
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/XX",
        "REPUTATION_DATABASE_URL": "postgresql+psycopg://rep:p%40ss@db:5432/reputation",
    }


def test_an_undefined_connection_leaves_the_environment_alone() -> None:
    assert _settings.env_from_connections(lambda _id: None, base={"X_BEARER_TOKEN": "t"}) == {"X_BEARER_TOKEN": "t"}


def test_a_full_webhook_url_and_an_explicit_database_url_are_taken_as_they_are() -> None:
    defined = {
        "slack_alerts": connection(password="http://127.0.0.1:9/services/T/B/X"),
        "reputation_db": connection(extra_dejson={"url": "sqlite:///reputation.db"}),
    }
    env = _settings.env_from_connections(defined.get, base={})
    assert env == {
        "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T/B/X",
        "REPUTATION_DATABASE_URL": "sqlite:///reputation.db",
    }


def test_settings_come_from_the_environment_before_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPUTATION_CONFIG", raising=False)
    assert _settings.config_path() == "reputation.yaml"
    monkeypatch.setenv("REPUTATION_CONFIG", "/etc/reputation.yaml")
    assert _settings.config_path() == "/etc/reputation.yaml"


def test_the_project_hands_its_secrets_over_as_an_argument_and_never_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    (tmp_path / "reputation.yaml").write_text("brands: [{name: Voltmart}]\n", encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'from-connection.db'}"
    monkeypatch.setenv("REPUTATION_CONFIG", str(tmp_path / "reputation.yaml"))
    monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_REPUTATION_DB", json.dumps({"conn_type": "generic", "extra": {"url": database}}))
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slackwebhook", "password": "T0/B0/XX"}))
    with _settings.project() as project:
        assert project.env["SLACK_WEBHOOK_URL"] == "https://hooks.slack.com/services/T0/B0/XX"
        assert str(project.store.engine.url) == database  # the connection's database, opened for the steps
        assert "SLACK_WEBHOOK_URL" not in os.environ and "REPUTATION_DATABASE_URL" not in os.environ
    assert (tmp_path / "from-connection.db").is_file()


@pytest.mark.parametrize("retryable", [True, False])
def test_a_step_that_may_succeed_on_another_try_is_retried_and_one_that_cannot_fails_at_once(retryable: bool) -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    error = _settings.task_failure("RateLimited: x: rate limited, retry after 900s", retryable)
    assert isinstance(error, AirflowException)
    assert isinstance(error, AirflowFailException) is not retryable
    assert str(error) == "RateLimited: x: rate limited, retry after 900s"


def test_a_run_without_a_logical_date_is_for_the_moment_it_ran() -> None:
    scheduled = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    triggered = datetime(2026, 11, 2, 14, 3, tzinfo=UTC)
    # A scheduled run carries its logical date; a manual or REST trigger may carry none, or leave the key out.
    assert _settings.run_at({"logical_date": scheduled, "dag_run": SimpleNamespace(run_after=triggered)}) == scheduled
    assert _settings.run_at({"logical_date": None, "dag_run": SimpleNamespace(run_after=triggered)}) == triggered
    assert _settings.run_at({"dag_run": SimpleNamespace(run_after=triggered)}) == triggered
    before = datetime.now(UTC)
    assert before <= _settings.run_at({}) <= datetime.now(UTC)


def test_every_dag_shares_one_set_of_defaults() -> None:
    defaults = _settings.dag_defaults(retries=2, retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(hours=1))
    assert defaults["catchup"] is False and defaults["max_active_runs"] == 1
    assert defaults["default_args"]["retries"] == 2
    assert defaults["default_args"]["on_failure_callback"].slack_webhook_conn_id == "slack_ops"


def test_a_schedule_of_none_leaves_the_dag_to_its_triggers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPUTATION_INGEST_SCHEDULE", raising=False)
    assert _settings.schedule("x", "REPUTATION_INGEST_SCHEDULE", "*/5 * * * *") == "*/5 * * * *"
    monkeypatch.setenv("REPUTATION_INGEST_SCHEDULE", "None")
    assert _settings.schedule("x", "REPUTATION_INGEST_SCHEDULE", "*/5 * * * *") is None
