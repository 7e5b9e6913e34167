"""Nightly: forget mentions older than the retention period (with their enrichments); incidents stay.

Re-clustering of issues is not scheduled here: the core has no function for it
yet (issues are clustered incrementally during enrichment).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import _settings
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.sdk import dag, task

default_args: dict[str, Any] = {
    "owner": "reputation",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "on_failure_callback": SlackWebhookNotifier(
        slack_webhook_conn_id="slack_ops",
        text=":red_circle: reputation: housekeeping task {{ ti.task_id }} failed ({{ run_id }})",
    ),
}


@dag(
    dag_id="reputation_housekeeping",
    schedule=_settings.setting("reputation_housekeeping_schedule", "REPUTATION_HOUSEKEEPING_SCHEDULE", "30 2 * * *"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["reputation"],
    doc_md=__doc__,
)
def reputation_housekeeping() -> None:
    @task
    def retention() -> dict[str, Any]:
        from reputation.pipeline import utcnow
        from reputation.retention import delete_old_mentions

        keep_days = int(_settings.setting("reputation_retention_days", "REPUTATION_RETENTION_DAYS", "90"))
        with _settings.project() as (_config, store, _env):
            report = delete_old_mentions(store, utcnow(), keep_days)
        return {
            "cutoff_at": report.cutoff_at.isoformat(),
            "mentions": report.mentions,
            "enrichments": report.enrichments,
            "authors": report.authors,
        }

    retention()


reputation_housekeeping()
