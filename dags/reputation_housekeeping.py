"""Nightly: forget mentions older than the retention period (with their enrichments); incidents stay.

Re-clustering of issues is not scheduled here: the core has no function for it
yet (issues are clustered incrementally during enrichment).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import _settings
from airflow.sdk import dag, task


@dag(
    dag_id="reputation_housekeeping",
    schedule=_settings.schedule("reputation_housekeeping_schedule", "REPUTATION_HOUSEKEEPING_SCHEDULE", "30 2 * * *"),
    doc_md=__doc__,
    **_settings.dag_defaults(retries=2, retry_delay=timedelta(minutes=5), max_retry_delay=timedelta(hours=1)),
)
def reputation_housekeeping() -> None:
    @task
    def retention() -> dict[str, Any]:
        from reputation.pipeline import utcnow
        from reputation.retention import delete_old_mentions

        keep_days = int(_settings.setting("reputation_retention_days", "REPUTATION_RETENTION_DAYS", "90"))
        with _settings.project() as p:
            report = delete_old_mentions(p.store, utcnow(), keep_days)
        return {
            "cutoff_at": report.cutoff_at.isoformat(),
            "mentions": report.mentions,
            "enrichments": report.enrichments,
            "authors": report.authors,
        }

    retention()


reputation_housekeeping()
