"""How the team and the collectors did on the day: incidents and response times, source health.

Time to alert runs from the customer's post to the incident; time to acknowledge
from the incident to a person acknowledging it. Collection-gap incidents start at
detection, not at a post, so they have no time to alert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select

from alerts.digest.records import IncidentLine, IncidentStats, SourceHealth
from reputation.config import BrandConfig, Config, Severity, SourceConfig
from reputation.store import as_utc
from reputation.store.schema import incidents as incidents_table
from reputation.store.schema import outbox, source_runs
from reputation.wording import snippet

_NO_POST_TIME = {"collection_gap"}


def _minutes(later: datetime, earlier: datetime) -> float:
    return (as_utc(later) - as_utc(earlier)).total_seconds() / 60


def incidents(
    connection: Connection,
    brand: str,
    source_names: list[str],
    day_start: datetime,
    day_end: datetime,
    now: datetime,
) -> tuple[IncidentStats, list[IncidentLine]]:
    """The day's incidents: opened, acknowledged, resolved, and how fast the team was."""
    # Collection gaps belong to a source, not a brand: they count for the brands the source serves.
    rows = connection.execute(
        select(incidents_table).where(
            or_(
                incidents_table.c.brand == brand,
                and_(incidents_table.c.brand.is_(None), incidents_table.c.rule == "collection_gap"),
            ),
            incidents_table.c.opened_at < day_end,
            or_(incidents_table.c.resolved_at.is_(None), incidents_table.c.resolved_at >= day_start),
        )
    ).all()
    rows = [row for row in rows if row.brand == brand or (row.details or {}).get("source") in source_names]

    def during(value: datetime | None) -> bool:
        return value is not None and day_start <= as_utc(value) < day_end

    end = min(day_end, now)
    stats = IncidentStats()
    lines = []
    for row in rows:
        stats.acknowledged += during(row.acknowledged_at)
        stats.resolved += during(row.resolved_at)
        closed = row.status == "false_positive" or (row.resolved_at is not None and as_utc(row.resolved_at) < end)
        stats.unresolved_at_end += not closed
        if not during(row.opened_at):
            continue
        stats.opened += 1
        to_alert = None if row.rule in _NO_POST_TIME else max(_minutes(row.opened_at, row.first_seen_at), 0.0)
        to_ack = _minutes(row.acknowledged_at, row.opened_at) if row.acknowledged_at else None
        if to_alert is not None:
            stats.alert_times.append(to_alert)
        if to_ack is not None:
            stats.acknowledge_times.append(to_ack)
        lines.append(
            IncidentLine(
                id=row.id,
                rule=row.rule,
                severity=str(Severity(row.severity)),
                status=row.status,
                title=row.title,
                opened_at=as_utc(row.opened_at),
                minutes_to_alert=to_alert,
                minutes_to_acknowledge=to_ack,
            )
        )
    return stats, sorted(lines, key=lambda line: (-Severity.parse(line.severity), line.id))


def source_health(
    connection: Connection,
    config: Config,
    brand: BrandConfig,
    sources: list[SourceConfig],
    day_start: datetime,
    day_end: datetime,
    history_start: datetime,
) -> list[SourceHealth]:
    names = [source.name for source in sources]
    runs = connection.execute(
        select(source_runs)
        .where(
            source_runs.c.source.in_(names),
            source_runs.c.started_at >= history_start,
            source_runs.c.started_at < day_end,
        )
        .order_by(source_runs.c.started_at, source_runs.c.id)
    ).all()
    zone = brand.zone
    health = []
    for source in sources:
        mine = [run for run in runs if run.source == source.name]
        today = [run for run in mine if as_utc(run.started_at) >= day_start]
        earlier = [run for run in mine if as_utc(run.started_at) < day_start]
        days_run = {config.digest.day_of(as_utc(run.started_at), zone) for run in earlier}
        failed = [run for run in today if run.error]
        health.append(
            SourceHealth(
                source=source.name,
                enabled=source.enabled,
                runs=len(today),
                failed=len(failed),
                stored=sum(run.stored for run in today),
                last_error=snippet(failed[-1].error, 300) if failed else None,
                stored_per_day_before=sum(run.stored for run in earlier) / len(days_run) if days_run else None,
                shared=len(source.brands) != 1 and len(config.brands) > 1,
            )
        )
    return health


def undelivered_alerts(connection: Connection, brand: str) -> tuple[int, int]:
    """The brand's alerts not in Slack yet: (still being retried, parked after max attempts and retried slowly)."""
    rows = connection.execute(
        select(outbox.c.failed_at.is_not(None), func.count())
        .join(incidents_table, incidents_table.c.id == outbox.c.incident_id)
        .where(outbox.c.sent_at.is_(None), incidents_table.c.brand == brand)
        .group_by(outbox.c.failed_at.is_not(None))
    ).all()
    found = {bool(parked): int(count) for parked, count in rows}
    return found.get(False, 0), found.get(True, 0)
