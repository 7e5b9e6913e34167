"""Airflow connections become the environment the CLI reads; connector failures become retry decisions."""

from __future__ import annotations

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


def test_the_environment_is_restored_after_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with _settings.environment({"SLACK_WEBHOOK_URL": "secret"}):
        assert os.environ["SLACK_WEBHOOK_URL"] == "secret"
    assert "SLACK_WEBHOOK_URL" not in os.environ


@pytest.mark.parametrize(
    ("recorded", "retried"),
    [
        ("RateLimited: x: rate limited, retry after 900s", True),
        ("Transient: x: 503 Service Unavailable", True),
        ("AuthenticationFailed: x: 401 Unauthorized", False),
        ("BadResponse: x: a pagination loop", False),
        ("InputError: replay file missing.jsonl does not exist", False),
    ],
)
def test_transient_failures_are_retried_and_bad_credentials_are_not(recorded: str, retried: bool) -> None:
    import reputation_ingest
    from airflow.sdk.exceptions import AirflowFailException

    error = reputation_ingest.collect_failure(recorded)
    assert isinstance(error, AirflowFailException) is not retried
    assert str(error) == recorded
