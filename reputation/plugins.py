"""The seams the core calls through, and their discovery by entry points.

The core imports no connector and no alert channel: it finds them under the
entry-point groups below, the same way a third-party package registers its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from reputation.config import Config
from reputation.errors import UnknownSourceError
from reputation.models import FetchedBatch
from reputation.store import Store

CONNECTORS_GROUP = "reputation.connectors"
ALERTING_GROUP = "reputation.alerting"


@dataclass(frozen=True)
class SourceSettings:
    """What a connector is built from. `env` is where credentials are read from."""

    name: str
    query: str = ""
    base_url: str | None = None
    limit: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)


@runtime_checkable
class Connector(Protocol):
    """One platform. `fetch` yields pages of mentions, each with the cursor valid after it."""

    platform: ClassVar[str]
    credentials: ClassVar[tuple[str, ...]]

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]: ...


class ConnectorFactory(Protocol):
    platform: ClassVar[str]
    credentials: ClassVar[tuple[str, ...]]

    def __call__(self, settings: SourceSettings) -> Connector: ...


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

    def detect(self, store: Store, config: Config, now: datetime) -> list[RaisedAlert]: ...

    def deliver(self, store: Store, config: Config, now: datetime) -> int: ...

    def digest(self, store: Store, config: Config, day: date | None, brand: str | None, output: Path) -> Path: ...

    def serve(self, store: Store, host: str, port: int) -> None:
        """Answer Slack interactivity (acknowledge, assign, resolve) until interrupted."""
        ...


def _group(name: str) -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=name)}


def connector_entry_points() -> dict[str, EntryPoint]:
    return _group(CONNECTORS_GROUP)


def load_connector(kind: str) -> ConnectorFactory:
    available = connector_entry_points()
    if kind not in available:
        known = ", ".join(sorted(available)) or "none installed"
        raise UnknownSourceError(f"no connector named {kind!r}; installed connectors: {known}")
    factory: ConnectorFactory = available[kind].load()
    return factory


def load_alerting() -> Alerting:
    available = _group(ALERTING_GROUP)
    if not available:
        raise UnknownSourceError(f"no alert engine installed (entry point group {ALERTING_GROUP!r})")
    # One engine is expected; a name sort keeps the choice deterministic.
    engine: Alerting = available[sorted(available)[0]].load()()
    return engine
