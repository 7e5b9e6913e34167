"""The alert engine the core finds through the `reputation.alerting` entry point."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from alerts import rules
from alerts.digest import write_digest
from alerts.incidents import record
from alerts.outbox import deliver_pending
from reputation.config import Config
from reputation.plugins import RaisedAlert
from reputation.store import Store


class AlertEngine:
    def detect(self, store: Store, config: Config, now: datetime) -> list[RaisedAlert]:
        """Run every rule and record its findings; one transaction, so a crash leaves no half-alert."""
        gaps = rules.collection_gaps(rules.source_errors(store, config), config, now)
        raised: list[RaisedAlert] = []
        with store.transaction() as connection:
            findings = [
                *rules.detractor_posts(connection, config, now),
                *rules.repeat_complainers(connection, config, now),
                *rules.issue_spikes(connection, config, now),
                *gaps,
            ]
            for finding in sorted(findings, key=lambda f: (-f.severity, f.story_key)):
                alert = record(connection, config, finding, now)
                if alert is not None:
                    raised.append(alert)
        return raised

    def deliver(self, store: Store, config: Config, now: datetime) -> int:
        return deliver_pending(store, config, now)

    def digest(self, store: Store, config: Config, day: date | None, brand: str | None, output: Path) -> Path:
        return write_digest(store, config, day=day, brand=brand, output=output)
