"""Once a day: the digest of the day before, one mapped task per brand, in the brand's own time zone.

A run triggered by hand (CLI, REST, the UI) has no logical date: its digest is of
the day before the moment it ran.
"""

from __future__ import annotations

from datetime import timedelta

import _settings
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="reputation_digest",
    schedule=_settings.schedule("reputation_digest_schedule", "REPUTATION_DIGEST_SCHEDULE", "0 6 * * *"),
    doc_md=__doc__,
    **_settings.dag_defaults(retries=3, retry_delay=timedelta(minutes=2), max_retry_delay=timedelta(minutes=30)),
)
def reputation_digest() -> None:
    @task(retries=0)
    def brands() -> list[str]:
        with _settings.project() as p:
            return [brand.name for brand in p.config.brands]

    @task(map_index_template="{{ brand }}")
    def digest(brand: str) -> str:
        """Write (and, with `digest.send`, send) the brand's digest of the day before the run."""
        from reputation import pipeline

        run_at = _settings.run_at(get_current_context())
        with _settings.project() as p:
            return str(pipeline.digest(p.store, p.config, brand, run_at, p.env))

    digest.expand(brand=brands())


reputation_digest()
