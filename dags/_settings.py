"""What the DAGs hand the plain pipeline functions, and the defaults every DAG shares.

The CLI reads its secrets from environment variables; under Airflow they live in
connections. This module is the one place that maps one onto the other, into a
plain mapping (`env`) that the pipeline steps receive as an argument: nothing is
written to os.environ, so the pipeline code never learns about Airflow and one
task's secrets cannot leak into another's. A connection that is not defined
leaves the process environment's value (if any) in place, so `.env` files and
`AIRFLOW_CONN_*` variables both work.

Nothing here imports Airflow or the project at module level: DAG files import it
at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reputation.config import Config
    from reputation.store import Store


# Airflow connection id -> {environment variable -> where in the connection its value is}.
CONNECTIONS: dict[str, dict[str, str]] = {
    "reddit": {
        "REDDIT_CLIENT_ID": "login",
        "REDDIT_CLIENT_SECRET": "password",
        "REDDIT_USER_AGENT": "extra.user_agent",
    },
    "x": {"X_BEARER_TOKEN": "password"},
    "google_play": {"GOOGLE_PLAY_SERVICE_ACCOUNT_JSON": "password"},
    "trustpilot": {"TRUSTPILOT_API_KEY": "password"},
    "mastodon": {"MASTODON_ACCESS_TOKEN": "password"},
    "bluesky": {"BLUESKY_HANDLE": "login", "BLUESKY_APP_PASSWORD": "password"},
    "slack_alerts": {"SLACK_WEBHOOK_URL": "webhook_url"},
    "slack_bot": {"SLACK_BOT_TOKEN": "password", "SLACK_SIGNING_SECRET": "extra.signing_secret"},
    "smtp_digest": {
        "REPUTATION_SMTP_HOST": "host",
        "REPUTATION_SMTP_PORT": "port",
        "REPUTATION_SMTP_USER": "login",
        "REPUTATION_SMTP_PASSWORD": "password",
        "REPUTATION_SMTP_FROM": "extra.from",
        "REPUTATION_DIGEST_TO": "extra.to",
    },
    "reputation_db": {"REPUTATION_DATABASE_URL": "database_url"},
}


def _field(connection: Any, where: str) -> str:
    if where == "webhook_url":
        # Slack's webhook connection keeps https://hooks.slack.com/services in host and the path as password;
        # a full URL in the password is accepted too.
        password = connection.password or ""
        if password.startswith(("http://", "https://")):
            return str(password)
        host = (connection.host or "https://hooks.slack.com/services").rstrip("/")
        return f"{host}/{password.lstrip('/')}" if password else ""
    if where == "database_url":
        extra = connection.extra_dejson or {}
        if extra.get("url"):
            return str(extra["url"])
        from sqlalchemy import URL

        return URL.create(
            "postgresql+psycopg",
            username=connection.login or None,
            password=connection.password or None,
            host=connection.host or None,
            port=connection.port or None,
            database=connection.schema or None,
        ).render_as_string(hide_password=False)
    if where.startswith("extra."):
        value = (connection.extra_dejson or {}).get(where.removeprefix("extra."))
        return "" if value is None else str(value)
    value = getattr(connection, where, None)
    return "" if value is None else str(value)


def env_from_connections(
    get_connection: Callable[[str], Any | None], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment the CLI would see: `base` (the process's), overlaid with each defined connection."""
    env = dict(os.environ if base is None else base)
    for conn_id, fields in CONNECTIONS.items():
        connection = get_connection(conn_id)
        if connection is None:
            continue
        for variable, where in fields.items():
            value = _field(connection, where)
            if value:
                env[variable] = value
    return env


def airflow_connection(conn_id: str) -> Any | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException, AirflowRuntimeError

    try:
        return Connection.get(conn_id)
    except (AirflowNotFoundException, AirflowRuntimeError):
        return None


def setting(variable: str, env_name: str, default: str) -> str:
    """An Airflow Variable, else an environment variable, else the default.

    Safe at parse time: outside a running task (a bare DagBag) there may be no
    Variable store to ask, and the default applies.
    """
    if os.environ.get(env_name):
        return os.environ[env_name]
    try:
        from airflow.sdk import Variable

        return str(Variable.get(variable, default=default))
    except Exception:  # noqa: BLE001 - no Variable store reachable here; the documented default applies
        return default


def schedule(variable: str, env_name: str, default: str) -> str | None:
    """A DAG's cron schedule; `none` turns it off, so that runs start only when triggered (CLI, REST, UI)."""
    value = setting(variable, env_name, default).strip()
    return None if value.lower() == "none" else value


def config_path() -> str:
    return setting("reputation_config", "REPUTATION_CONFIG", "reputation.yaml")


@dataclass(frozen=True)
class Project:
    """The configuration, an open store and the settings (`env`) that the steps receive explicitly."""

    config: Config
    store: Store
    env: Mapping[str, str]


@contextmanager
def project() -> Iterator[Project]:
    """The configuration, an open store and the credentials, the way the CLI builds them."""
    from pathlib import Path

    from reputation.config import load_config
    from reputation.store import Store

    env = env_from_connections(airflow_connection)
    config = load_config(Path(config_path()))
    store = Store.open(config.resolved_database_url(env))
    try:
        yield Project(config, store, env)
    finally:
        store.close()


def task_failure(error: str, retryable: bool) -> Exception:
    """The exception that tells Airflow whether to try a failed step again.

    Rate limits and transient platform errors are worth another try (the cursor
    was stored page by page, so a retry resumes); bad credentials and unreadable
    answers fail at once. The step says which, as data.
    """
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    return AirflowException(error) if retryable else AirflowFailException(error)


def run_at(context: Mapping[str, Any]) -> datetime:
    """When this run is for: its logical date, which a manual or REST trigger may leave out, else when it ran."""
    logical: datetime | None = context.get("logical_date")
    if logical is not None:
        return logical
    dag_run = context.get("dag_run")
    run_after: datetime | None = getattr(dag_run, "run_after", None)
    return run_after if run_after is not None else datetime.now(UTC)


def dag_defaults(*, retries: int, retry_delay: timedelta, max_retry_delay: timedelta) -> dict[str, Any]:
    """What every reputation DAG shares: no catch-up, one run at a time, backoff, and operations told of failures."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    ops_alert = SlackWebhookNotifier(
        slack_webhook_conn_id="slack_ops",
        text=":red_circle: reputation: task {{ ti.task_id }}[{{ ti.map_index }}] of {{ dag.dag_id }} failed "
        "({{ run_id }}, try {{ ti.try_number }})",
    )
    return {
        "start_date": datetime(2026, 1, 1, tzinfo=UTC),
        "catchup": False,
        # Two runs at once would fetch with the same cursor, race on enrichment or write one page twice: wait instead.
        "max_active_runs": 1,
        "tags": ["reputation"],
        "default_args": {
            "owner": "reputation",
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_exponential_backoff": True,
            "max_retry_delay": max_retry_delay,
            "on_failure_callback": ops_alert,
        },
    }
