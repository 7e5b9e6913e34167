"""Every few minutes: collect each enabled source (one mapped task each), then enrich, detect, deliver.

Each task calls the same plain function the CLI's `reputation run` calls. Project
modules are imported inside the tasks so that parsing this file stays cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import _settings
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.sdk import TriggerRule, dag, task

ops_alert = SlackWebhookNotifier(
    slack_webhook_conn_id="slack_ops",
    text=":red_circle: reputation: task {{ ti.task_id }}[{{ ti.map_index }}] of {{ dag.dag_id }} failed "
    "({{ run_id }}, try {{ ti.try_number }})",
)

default_args: dict[str, Any] = {
    "owner": "reputation",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": ops_alert,
}


def collect_failure(error: str) -> Exception:
    """Turn a failure `collect` recorded into the exception that tells Airflow whether to retry.

    `collect` records "<ExceptionName>: message". Rate limits and transient
    platform errors are worth another try (the cursor was stored page by page, so
    a retry resumes); bad credentials and unreadable answers fail at once.
    """
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from connectors import errors

    kind = getattr(errors, error.partition(":")[0], None)
    retryable = isinstance(kind, type) and issubclass(kind, errors.ConnectorError) and kind.retryable
    return AirflowException(error) if retryable else AirflowFailException(error)


@dag(
    dag_id="reputation_ingest",
    schedule=_settings.setting("reputation_ingest_schedule", "REPUTATION_INGEST_SCHEDULE", "*/5 * * * *"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    # Two runs at once would fetch with the same cursor and race on enrichment: wait instead.
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=default_args,
    tags=["reputation"],
    doc_md=__doc__,
)
def reputation_ingest() -> None:
    @task(retries=0)
    def sources() -> list[str]:
        """The enabled sources of the configuration, read at run time so an edit needs no deploy."""
        with _settings.project() as (config, _store, _env):
            return [source.name for source in config.sources if source.enabled]

    @task(map_index_template="{{ source }}", max_active_tis_per_dagrun=8)
    def collect(source: str) -> dict[str, Any]:
        from reputation.pipeline import collect as collect_source

        with _settings.project() as (config, store, env):
            result = collect_source(store, config, config.source(source), env)
        if result.run.error:
            raise collect_failure(result.run.error)
        return {"source": source, "fetched": result.run.fetched, "stored": result.run.stored}

    # The steps below run whatever the sources did: one broken platform must not hold back the others' alerts.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def enrich() -> dict[str, Any]:
        from reputation.enrichment import Enricher
        from reputation.pipeline import utcnow

        with _settings.project() as (config, store, _env):
            report = Enricher(config).run(store, utcnow())
        return {"enriched": report.enriched, "complaints": report.complaints}

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def detect() -> int:
        from reputation.alerting import load_alerting
        from reputation.pipeline import utcnow

        with _settings.project() as (config, store, _env):
            return len(load_alerting().detect(store, config, utcnow()))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def deliver() -> int:
        from reputation.alerting import load_alerting
        from reputation.pipeline import utcnow

        with _settings.project() as (config, store, _env):
            return load_alerting().deliver(store, config, utcnow())

    collected = collect.expand(source=sources())
    enriched = enrich()
    detected = detect()
    collected >> enriched >> detected >> deliver()


reputation_ingest()
