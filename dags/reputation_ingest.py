"""Every few minutes: collect each enabled source (one mapped task each), then enrich, detect, deliver.

Each task calls the same plain function the CLI's `reputation run` calls. Project
modules are imported inside the tasks so that parsing this file stays cheap.
A source that fails does not hold back the others' alerts, but the run ends
failed (the last task, `outcome`, needs every source to have succeeded).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import _settings
from airflow.sdk import TriggerRule, dag, task


@dag(
    dag_id="reputation_ingest",
    schedule=_settings.schedule("reputation_ingest_schedule", "REPUTATION_INGEST_SCHEDULE", "*/5 * * * *"),
    dagrun_timeout=timedelta(minutes=30),
    doc_md=__doc__,
    **_settings.dag_defaults(retries=3, retry_delay=timedelta(seconds=30), max_retry_delay=timedelta(minutes=10)),
)
def reputation_ingest() -> None:
    @task(retries=0)
    def sources() -> list[str]:
        """The enabled sources of the configuration, read at run time so an edit needs no deploy."""
        from reputation.pipeline import enabled_sources

        with _settings.project() as project:
            return enabled_sources(project.config)

    @task(map_index_template="{{ source }}", max_active_tis_per_dagrun=8)
    def collect(source: str) -> dict[str, Any]:
        from reputation import pipeline

        with _settings.project() as p:
            result = pipeline.collect(p.store, p.config, p.config.source(source), p.env)
        if result.error:
            raise _settings.task_failure(result.error, result.retryable)
        return {"source": source, "fetched": result.run.fetched, "stored": result.run.stored}

    # The steps below run whatever the sources did: one broken platform must not hold back the others' alerts.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def enrich() -> dict[str, Any]:
        from reputation import pipeline

        with _settings.project() as p:
            report = pipeline.enrich(p.store, p.config)
        return {"enriched": report.enriched, "complaints": report.complaints}

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def detect() -> int:
        from reputation import pipeline

        with _settings.project() as p:
            return len(pipeline.detect(p.store, p.config, p.env))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def deliver() -> int:
        from reputation import pipeline

        with _settings.project() as p:
            return pipeline.deliver(p.store, p.config, p.env)

    # The run's colour: every source collected and the alerts went out. A failed source leaves this task
    # upstream_failed, so the run ends failed (red) after the other sources' alerts were delivered.
    @task(trigger_rule=TriggerRule.ALL_SUCCESS, retries=0)
    def outcome(collected: list[dict[str, Any]], delivered: int) -> dict[str, int]:
        return {
            "sources": len(collected),
            "stored": sum(int(c["stored"]) for c in collected),
            "delivered": delivered,
        }

    collected = collect.expand(source=sources())
    enriched = enrich()
    detected = detect()
    delivered = deliver()
    collected >> enriched >> detected >> delivered
    outcome(collected, delivered)


reputation_ingest()
