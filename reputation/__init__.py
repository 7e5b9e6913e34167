"""Reputation monitor: catch an angry customer's post early and hand it to a person.

The public API is below. Names are imported on first use (PEP 562), so a connector that
imports `reputation.models` does not pull in the configuration, the store or SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Author": "reputation.models",
    "FetchedBatch": "reputation.models",
    "Kind": "reputation.models",
    "Mention": "reputation.models",
    "Metrics": "reputation.models",
    "Connector": "reputation.connector",
    "SourceSettings": "reputation.connector",
    "load_connector": "reputation.connector",
    "Alerting": "reputation.alerting",
    "RaisedAlert": "reputation.alerting",
    "Config": "reputation.config",
    "load_config": "reputation.config",
    "Store": "reputation.store",
    "ReputationError": "reputation.errors",
    "ConfigError": "reputation.errors",
    "InputError": "reputation.errors",
    "StoreError": "reputation.errors",
}

__all__ = [
    "Alerting",
    "Author",
    "Config",
    "ConfigError",
    "Connector",
    "FetchedBatch",
    "InputError",
    "Kind",
    "Mention",
    "Metrics",
    "RaisedAlert",
    "ReputationError",
    "SourceSettings",
    "Store",
    "StoreError",
    "__version__",
    "load_config",
    "load_connector",
]

if TYPE_CHECKING:
    from reputation.alerting import Alerting, RaisedAlert
    from reputation.config import Config, load_config
    from reputation.connector import Connector, SourceSettings, load_connector
    from reputation.errors import ConfigError, InputError, ReputationError, StoreError
    from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics
    from reputation.store import Store


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reputation' has no attribute {name!r}")
