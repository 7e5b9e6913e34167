"""`reputation doctor`: what is wrong with this installation, in one table."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Connection, func, select

from reputation.alerting import load_alerting
from reputation.config import Config, load_config
from reputation.connector import load_connector
from reputation.errors import ReputationError
from reputation.store import Store, as_utc
from reputation.store.schema import outbox, outbox_routes, quarantine, source_runs
from reputation.text.language import detect_language
from reputation.text.sentiment import SentimentAnalyzer


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _last_runs(connection: Connection, names: list[str]) -> dict[str, tuple[datetime, str | None]]:
    """Each source's latest run (an index seek per source on source, started_at)."""
    found = {}
    for name in names:
        row = connection.execute(
            select(source_runs.c.started_at, source_runs.c.error)
            .where(source_runs.c.source == name)
            .order_by(source_runs.c.started_at.desc(), source_runs.c.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            found[name] = (as_utc(row.started_at), row.error)
    return found


def _delivery(connection: Connection, now: datetime) -> Check:
    """Alerts Slack has not taken: parked ones fail the check, and the routes in a backoff are named."""
    parked = connection.scalar(select(func.count()).where(outbox.c.sent_at.is_(None), outbox.c.failed_at.is_not(None)))
    waiting = connection.scalar(select(func.count()).where(outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None)))
    paused = connection.execute(
        select(outbox_routes.c.route, outbox_routes.c.paused_until).where(outbox_routes.c.paused_until > now)
    ).all()
    detail = f"{parked or 0} parked (retried hourly), {waiting or 0} waiting to be sent"
    if paused:
        detail += "; backing off: " + ", ".join(
            f"{r.route} until {as_utc(r.paused_until):%H:%M:%S} UTC" for r in paused
        )
    if parked:
        detail += "; `reputation outbox list` shows them, `reputation outbox retry --all` resends now"
    return Check("alert outbox", not parked, detail)


def _quarantine(connection: Connection) -> Check:
    """Rows the store refused; their sources moved on, the rows wait in `quarantine` with the reason."""
    counts = connection.execute(
        select(quarantine.c.source, func.count(), func.max(quarantine.c.id)).group_by(quarantine.c.source)
    ).all()
    if not counts:
        return Check("quarantine", True, "no rows refused by the store")
    last = connection.execute(
        select(quarantine.c.mention_key, quarantine.c.error).order_by(quarantine.c.id.desc()).limit(1)
    ).one()
    per_source = ", ".join(f"{source} {count}" for source, count, _ in counts)
    # Informational: the sources are not stuck; the rows are kept for a look and a replay.
    return Check(
        "quarantine",
        True,
        f"rows refused by the store: {per_source}; latest {last.mention_key[:80]}: {last.error[:200]}",
    )


def _reachable(url: str, timeout_seconds: float = 3.0) -> tuple[bool, str]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_seconds):
            return True, f"{host}:{port} accepts connections"
    except OSError as error:
        return False, f"cannot connect to {host}:{port}: {error.strerror or type(error).__name__}"


def _models() -> Check:
    try:
        polarity = SentimentAnalyzer().score("still waiting for my refund, never again").label
        language = detect_language("Where is my order? It was due on Monday.")
    except Exception as error:  # noqa: BLE001 - any failure here is the finding
        return Check("nlp models", False, f"{type(error).__name__}: {error}")
    return Check("nlp models", True, f"sentiment and language models load (sample: {polarity}, {language})")


def run_checks(config_path: Path) -> list[Check]:
    try:
        config: Config = load_config(config_path)
    except ReputationError as error:
        return [Check("configuration", False, str(error)), _models()]
    checks = [
        Check("configuration", True, f"{config_path}: {len(config.brands)} brands, {len(config.sources)} sources")
    ]
    last_runs: dict[str, tuple[datetime, str | None]] = {}
    try:
        store = Store.open(config.resolved_database_url())
        checks.append(Check("database", True, f"{store.dialect} reachable, schema up to date"))
        with store.engine.connect() as connection:
            last_runs = _last_runs(connection, [source.name for source in config.sources])
            checks.append(_quarantine(connection))
            checks.append(_delivery(connection, datetime.now(UTC)))
        store.close()
    except ReputationError as error:
        checks.append(Check("database", False, str(error)))
    checks.append(_models())
    try:
        load_alerting()
        checks.append(Check("alert engine", True, "installed"))
    except ReputationError as error:
        checks.append(Check("alert engine", False, str(error)))
    for source in config.sources:
        try:
            factory = load_connector(source.type)
        except ReputationError as error:
            checks.append(Check(f"source {source.name}", False, str(error)))
            continue
        missing = [name for name in factory.credentials if not os.environ.get(name)]
        detail = (
            f"set {', '.join(missing)}" if missing else "credentials present" if factory.credentials else "none needed"
        )
        started_at, last_error = last_runs.get(source.name, (None, None))
        if started_at is not None and last_error:
            # A platform down, slow or answering garbage shows here until a run succeeds again.
            failed = f"{source.type}: last run at {started_at:%Y-%m-%d %H:%M} UTC failed: {last_error}"
            checks.append(Check(f"source {source.name}", False, failed))
            continue
        checks.append(Check(f"source {source.name}", not missing, f"{source.type}: {detail}"))
    for route in config.alerts.routes:
        secret = os.environ.get(route.secret_env)
        if not secret:
            checks.append(Check(f"slack route {route.name}", False, f"${route.secret_env} is not set"))
            continue
        ok, detail = _reachable(secret if route.webhook_env else route.api_base_url or "https://slack.com/api/")
        checks.append(Check(f"slack route {route.name}", ok, detail))
    return checks
