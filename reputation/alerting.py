"""The alerting seam: rules -> incidents -> outbox -> channels, and the daily digest.

The core calls the alert engine only through this protocol and finds it under the
entry-point group below, so `reputation` never imports `alerts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reputation.connector import entry_points_of
from reputation.errors import UnknownSourceError

if TYPE_CHECKING:
    from reputation.config import Config
    from reputation.store import Store

ALERTING_GROUP = "reputation.alerting"


@dataclass(frozen=True)
class RaisedAlert:
    """What the alert engine tells the caller about an incident it opened or escalated."""

    incident_id: int
    rule: str
    severity: str
    brand: str | None
    title: str
    summary: str
    escalation: bool


class Alerting(Protocol):
    """Rules -> incidents -> outbox -> channels, and the daily digest."""

    # `env` holds the routes' secrets (webhook URLs, tokens, SMTP); None means the process environment,
    # which is what the CLI has. The DAGs pass the values of their Airflow connections instead.
    def detect(
        self, store: Store, config: Config, now: datetime, env: Mapping[str, str] | None = None
    ) -> list[RaisedAlert]: ...

    def deliver(self, store: Store, config: Config, now: datetime, env: Mapping[str, str] | None = None) -> int: ...

    def digest(
        self,
        store: Store,
        config: Config,
        day: date | None,
        brand: str | None,
        output: Path,
        env: Mapping[str, str] | None = None,
    ) -> Path: ...

    def serve(self, store: Store, host: str, port: int) -> None:
        """Answer Slack interactivity (acknowledge, assign, resolve) until interrupted."""
        ...


def load_alerting() -> Alerting:
    available = entry_points_of(ALERTING_GROUP)
    if not available:
        raise UnknownSourceError(f"no alert engine installed (entry point group {ALERTING_GROUP!r})")
    # One engine is expected; a name sort keeps the choice deterministic.
    engine: Alerting = available[sorted(available)[0]].load()()
    return engine
