"""Once a day: the digest of the day before, one mapped task per brand, in the brand's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import _settings
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.sdk import dag, get_current_context, task

default_args: dict[str, Any] = {
    "owner": "reputation",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": SlackWebhookNotifier(
        slack_webhook_conn_id="slack_ops",
        text=":red_circle: reputation: the digest of {{ ti.map_index }} failed ({{ run_id }})",
    ),
}


@dag(
    dag_id="reputation_digest",
    schedule=_settings.setting("reputation_digest_schedule", "REPUTATION_DIGEST_SCHEDULE", "0 6 * * *"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["reputation"],
    doc_md=__doc__,
)
def reputation_digest() -> None:
    @task(retries=0)
    def brands() -> list[str]:
        with _settings.project() as (config, _store, _env):
            return [brand.name for brand in config.brands]

    @task(map_index_template="{{ brand }}")
    def digest(brand: str) -> str:
        """Write (and, with `digest.send`, send) the brand's digest of the day before the run."""
        from reputation.alerting import load_alerting

        logical: datetime = get_current_context()["logical_date"] or datetime.now(UTC)
        with _settings.project() as (config, store, _env):
            day = (logical.astimezone(config.brand(brand).zone) - timedelta(days=1)).date()
            return str(load_alerting().digest(store, config, day, brand, config.digest.file_path(brand, day)))

    digest.expand(brand=brands())


reputation_digest()
