"""The connector seam: what a platform connector is built from, what it yields, and how the core finds one.

A connector imports from the core only this module and the records (`reputation.models`):
the core finds connectors under the entry-point group below, the same way a third-party
package registers its own, and imports none of them. What else a connector may use from
the core is offered here: the errors it may raise and the brands' keyword-rule language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from reputation.errors import InputError, ReputationError, UnknownSourceError
from reputation.keywords import compile_rule
from reputation.models import FetchedBatch

__all__ = [
    "CONNECTORS_GROUP",
    "Connector",
    "ConnectorFactory",
    "InputError",
    "ReputationError",
    "SourceSettings",
    "UnknownSourceError",
    "connector_entry_points",
    "entry_points_of",
    "keyword_matcher",
    "load_connector",
]

CONNECTORS_GROUP = "reputation.connectors"


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


def entry_points_of(group: str) -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=group)}


def connector_entry_points() -> dict[str, EntryPoint]:
    return entry_points_of(CONNECTORS_GROUP)


def load_connector(kind: str) -> ConnectorFactory:
    available = connector_entry_points()
    if kind not in available:
        known = ", ".join(sorted(available)) or "none installed"
        raise UnknownSourceError(f"no connector named {kind!r}; installed connectors: {known}")
    factory: ConnectorFactory = available[kind].load()
    return factory


def keyword_matcher(rule: str) -> Callable[[str], bool]:
    """The brands' keyword-rule language, for a connector that must filter what its platform's search cannot.

    Raises ValueError naming where the rule does not parse.
    """
    return compile_rule(rule)
