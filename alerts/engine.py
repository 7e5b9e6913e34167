"""The alert engine the core finds through the `reputation.alerting` entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from alerts import rules
from alerts.digest import write_digest
from alerts.errors import AlertsError
from alerts.incidents import follow_up_overdue, record
from alerts.outbox import deliver_pending
from alerts.replies import note_replies
from alerts.slack.interactivity import SIGNING_SECRET_ENV
from alerts.slack.server import make_server
from alerts.zendesk import sync_tickets
from reputation.alerting import RaisedAlert
from reputation.config import Config
from reputation.store import Store


class AlertEngine:
    def detect(
        self, store: Store, config: Config, now: datetime, env: Mapping[str, str] | None = None
    ) -> list[RaisedAlert]:
        """Run every rule and record its findings; one transaction, so a crash leaves no half-alert."""
        raised: list[RaisedAlert] = []
        with store.transaction() as connection:
            findings = [
                *rules.detractor_posts(connection, config, now),
                *rules.repeat_complainers(connection, config, now),
                *rules.issue_spikes(connection, config, now),
                *rules.volume_spikes(connection, config, now),
                *rules.collection_gaps(connection, config, now),
                *rules.unanswered_complaints(connection, config, now),
            ]
            for finding in sorted(findings, key=lambda f: (-f.severity, f.story_key)):
                alert = record(connection, config, finding, now, env)
                if alert is not None:
                    raised.append(alert)
            raised.extend(note_replies(connection, config, now))
            raised.extend(follow_up_overdue(connection, config, now, env))
        return raised

    def deliver(self, store: Store, config: Config, now: datetime, env: Mapping[str, str] | None = None) -> int:
        delivered = deliver_pending(store, config, now, env)
        # A ticket solved in the helpdesk resolves its incident.
        sync_tickets(store, config, now, os.environ if env is None else env)
        return delivered

    def serve(self, store: Store, host: str, port: int) -> None:
        secret = os.environ.get(SIGNING_SECRET_ENV, "")
        if not secret:
            raise AlertsError(f"set ${SIGNING_SECRET_ENV} (your Slack app's signing secret) to verify requests")
        server = make_server(store, secret, host, port)
        try:
            server.serve_forever()
        finally:
            server.server_close()

    def digest(
        self,
        store: Store,
        config: Config,
        day: date | None,
        brand: str | None,
        output: Path,
        env: Mapping[str, str] | None = None,
    ) -> Path:
        return write_digest(store, config, day=day, brand=brand, output=output, env=env)
