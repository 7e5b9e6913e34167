"""The pipeline as plain functions: the CLI calls them, and so will Airflow.

    collect (per source) -> enrich -> detect -> deliver

Each step reads what the previous one committed, so any step can be re-run or
retried on its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from reputation.alerting import Alerting, RaisedAlert, load_alerting
from reputation.config import Config, SourceConfig
from reputation.connector import Connector, SourceSettings, load_connector
from reputation.enrichment import Enricher, EnrichReport
from reputation.keywords import BrandMatcher
from reputation.models import Mention
from reputation.redaction import scrub
from reputation.replies.owned import OwnedAccounts
from reputation.store import Store
from reputation.store.mentions import SourceRun, load_state, record_run
from reputation.store.quarantine import save_page
from reputation.store.queries import stored_brands

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CollectResult:
    run: SourceRun
    off_topic: int = 0
    problems: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    # Whether another try may succeed (a rate limit, a 5xx, a timeout), as the failure itself said;
    # the scheduler decides on retries from this, never from the error's text.
    retryable: bool = False

    @property
    def error(self) -> str | None:
        return self.run.error


class BrandAssigner:
    """Gives each mention the brand its text matches; thread members inherit their root's."""

    def __init__(self, config: Config, source: SourceConfig) -> None:
        names = source.brands or [brand.name for brand in config.brands]
        self.matchers: list[BrandMatcher] = [config.brand(name).matcher() for name in names]
        self.known = set(names)
        # A post by a brand's own account is about that brand, whatever its words.
        self.owned = {key: brand for key, brand in OwnedAccounts.from_config(config).brands.items() if brand in names}

    def assign(self, store: Store, batch: Sequence[Mention]) -> tuple[list[Mention], int]:
        decided: dict[str, str | None] = {}
        for mention in batch:
            owner = self.owned.get((mention.platform, mention.author.handle.lstrip("@").lower()))
            if mention.brand in self.known:
                decided[mention.key] = mention.brand
            elif owner is not None:
                decided[mention.key] = owner
            else:
                decided[mention.key] = next((m.brand for m in self.matchers if m.matches(mention.text)), None)
        thread_keys = {key for m in batch if decided[m.key] is None for key in (m.root_key, m.parent_key) if key}
        stored = self._stored_brands(store, thread_keys - decided.keys())
        kept: list[Mention] = []
        for mention in batch:
            brand = decided[mention.key]
            for key in (mention.root_key, mention.parent_key):
                if brand is None and key:
                    brand = decided.get(key) or stored.get(key)
            if brand is not None:
                kept.append(mention if mention.brand == brand else mention.model_copy(update={"brand": brand}))
        return kept, len(batch) - len(kept)

    @staticmethod
    def _stored_brands(store: Store, keys: set[str]) -> dict[str, str | None]:
        with store.engine.connect() as connection:
            return stored_brands(connection, keys)


def connector_for(
    source: SourceConfig, env: Mapping[str, str], config: Config | None = None
) -> tuple[Connector, tuple[str, ...]]:
    factory = load_connector(source.type)
    query, options = source.query, dict(source.options)
    if config is not None:
        # A file a source names is relative to the configuration file, like every path in it;
        # connectors list such options in `path_options` ("query" when the query is a file).
        for name in getattr(factory, "path_options", ()):
            if name == "query" and query:
                query = str(config.resolve_path(query))
            elif isinstance(options.get(name), str) and options[name]:
                options[name] = str(config.resolve_path(options[name]))
    settings = SourceSettings(
        name=source.name,
        query=query,
        base_url=source.base_url,
        limit=source.limit,
        options=options,
        env=env,
    )
    secrets = tuple(env.get(name, "") for name in factory.credentials)
    return factory(settings), secrets


def collect(store: Store, config: Config, source: SourceConfig, env: Mapping[str, str] | None = None) -> CollectResult:
    """Fetch one source and store what it yields, page by page with its cursor.

    A failure keeps every page stored before it and is recorded, not raised,
    so one broken platform never stops the others.
    """
    env = os.environ if env is None else env
    result = CollectResult(SourceRun(source.name, utcnow()))
    secrets: tuple[str, ...] = ()
    try:
        connector, secrets = connector_for(source, env, config)
        assigner = BrandAssigner(config, source)
        state = load_state(store, source.name)
        for batch in connector.fetch(source.query, state):
            kept, off_topic = assigner.assign(store, batch.mentions)
            page = save_page(store, source.name, kept, batch.state, utcnow())
            result.run.stored += page.stored
            for refused in page.quarantined:
                log.warning("source %s: quarantined %s", source.name, refused)
            result.quarantined.extend(page.quarantined)
            result.run.fetched += len(batch.mentions)
            result.run.degraded += batch.degraded
            result.off_topic += off_topic
            for problem in batch.problems:
                log.warning("source %s: skipped %s", source.name, problem)
            result.problems.extend(batch.problems)
    except (OperationalError, InterfaceError):
        raise  # the store, not the source, failed: the cycle stops and says so
    except Exception as error:  # noqa: BLE001 - recorded and shown; the other sources go on
        result.run.error = scrub(f"{type(error).__name__}: {error}", secrets)
        result.retryable = bool(getattr(error, "retryable", False))
        log.error("source %s failed: %s", source.name, result.run.error)
    record_run(store, result.run, utcnow())
    return result


@dataclass
class CycleReport:
    collected: list[CollectResult]
    enriched: EnrichReport
    alerts: list[RaisedAlert]
    delivered: int


def run_cycle(
    store: Store,
    config: Config,
    alerting: Alerting,
    *,
    enricher: Enricher | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CycleReport:
    """One cycle over every enabled source: collect, enrich, detect, deliver.

    A source whose connector is not installed is a configuration error and
    stops the cycle before anything runs; a source that fails while fetching
    is recorded and the others go on.
    """
    for source in config.sources:
        if source.enabled:
            load_connector(source.type)
    # Everything a step stored is committed with its cursor, so a cycle cut short
    # by a database outage is simply picked up by the next one.
    with store.available():
        collected = [collect(store, config, source, env) for source in config.sources if source.enabled]
        enriched = (enricher or Enricher(config)).run(store, utcnow(), progress)
        alerts = alerting.detect(store, config, utcnow(), env)
        delivered = alerting.deliver(store, config, utcnow(), env)
    return CycleReport(collected, enriched, alerts, delivered)


# The steps one by one, for a scheduler that runs each as its own task (the DAGs). `env` is the
# settings channel: connection values and secrets arrive here as an argument, never through os.environ.


def enabled_sources(config: Config) -> list[str]:
    return [source.name for source in config.sources if source.enabled]


def enrich(store: Store, config: Config) -> EnrichReport:
    return Enricher(config).run(store, utcnow())


def detect(store: Store, config: Config, env: Mapping[str, str]) -> list[RaisedAlert]:
    return load_alerting().detect(store, config, utcnow(), env)


def deliver(store: Store, config: Config, env: Mapping[str, str]) -> int:
    return load_alerting().deliver(store, config, utcnow(), env)


def digest(store: Store, config: Config, brand: str, run_at: datetime, env: Mapping[str, str]) -> Path:
    """Write (and, with `digest.send`, send) the brand's digest of the day before the one `run_at` falls in."""
    day = config.digest.day_of(run_at, config.brand(brand).zone) - timedelta(days=1)
    return load_alerting().digest(store, config, day, brand, config.digest.file_path(brand, day), env)
