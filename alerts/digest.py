"""The daily digest for CX leads: one self-contained HTML page per day.

Every figure is computed from the store for the brand's own calendar day, and
collection health sits beside sentiment so that a silent source never reads as
customers getting happier.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection, select

from alerts.rules import person_of
from reputation.config import BrandConfig, Config
from reputation.store import Store, as_utc
from reputation.store.schema import authors, cascades, enrichments, incidents, issues, mentions, source_runs

TOP_ISSUES = 8
TOP_CASCADES = 5
EXAMPLES_PER_ISSUE = 2


@dataclass
class DayVolume:
    day: date
    negative: int = 0
    neutral: int = 0
    positive: int = 0

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float:
        return self.negative / self.total if self.total else 0.0


@dataclass
class IssueLine:
    id: str
    label: str
    today: int
    average_before: float
    series: list[int]
    new: bool
    negative_share: float
    examples: list[str]

    @property
    def trend(self) -> str:
        if self.new:
            return "new"
        if self.today >= 1.5 * max(self.average_before, 0.5):
            return "up"
        if self.today <= 0.67 * self.average_before:
            return "down"
        return "flat"


@dataclass
class SourceHealth:
    source: str
    runs: int
    failed: int
    stored: int
    last_error: str | None
    stored_before: float

    @property
    def status(self) -> str:
        if self.runs == 0:
            return "no runs"
        if self.failed == self.runs:
            return "failing"
        if self.stored == 0 and self.stored_before > 0:
            return "silent"
        return "degraded" if self.failed else "ok"


@dataclass
class BrandDigest:
    brand: str
    day: date
    timezone: str
    volumes: list[DayVolume]
    issues: list[IssueLine] = field(default_factory=list)
    spreading: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    incident_counts: dict[str, int] = field(default_factory=dict)
    minutes_to_alert: float | None = None
    minutes_to_acknowledge: float | None = None
    repeat_complainers: list[dict[str, Any]] = field(default_factory=list)
    health: list[SourceHealth] = field(default_factory=list)

    @property
    def today(self) -> DayVolume:
        return self.volumes[-1]

    @property
    def before(self) -> list[DayVolume]:
        return self.volumes[:-1]

    @property
    def average_before(self) -> float:
        return statistics.fmean(v.total for v in self.before) if self.before else 0.0

    @property
    def negative_share_before(self) -> float:
        total = sum(v.total for v in self.before)
        return sum(v.negative for v in self.before) / total if total else 0.0

    @property
    def unhealthy_sources(self) -> list[SourceHealth]:
        return [source for source in self.health if source.status != "ok"]


def _day_bounds(day: date, brand: BrandConfig) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=brand.zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def build_brand_digest(connection: Connection, config: Config, brand: BrandConfig, day: date) -> BrandDigest:
    days = [day - timedelta(days=offset) for offset in range(config.digest.history_days - 1, -1, -1)]
    history_start, _ = _day_bounds(days[0], brand)
    day_start, day_end = _day_bounds(day, brand)
    rows = connection.execute(
        select(
            mentions.c.key,
            mentions.c.text,
            mentions.c.created_at,
            mentions.c.author_key,
            mentions.c.kind,
            authors.c.handle,
            enrichments.c.sentiment,
            enrichments.c.compound,
            enrichments.c.issue_id,
        )
        .join(enrichments, enrichments.c.mention_key == mentions.c.key)
        .join(authors, authors.c.key == mentions.c.author_key)
        .where(mentions.c.brand == brand.name, mentions.c.created_at >= history_start, mentions.c.created_at < day_end)
    ).all()
    volumes = {d: DayVolume(d) for d in days}
    local_day = {row.key: as_utc(row.created_at).astimezone(brand.zone).date() for row in rows}
    for row in rows:
        volume = volumes[local_day[row.key]]
        setattr(volume, row.sentiment, getattr(volume, row.sentiment) + 1)
    digest = BrandDigest(brand.name, day, brand.timezone, [volumes[d] for d in days])
    digest.issues = _issue_lines(connection, rows, local_day, days, day_start, day_end)
    digest.spreading = _spreading(connection, brand.name, day_start, day_end)
    _incidents(connection, digest, brand.name, day_start, day_end)
    digest.repeat_complainers = _repeat_complainers(rows, local_day, day)
    digest.health = _health(connection, config, brand.name, history_start, day_start, day_end, len(days) - 1)
    return digest


def _issue_lines(
    connection: Connection,
    rows: Sequence[Any],
    local_day: dict[str, date],
    days: list[date],
    day_start: datetime,
    day_end: datetime,
) -> list[IssueLine]:
    per_issue: dict[str, Counter[date]] = defaultdict(Counter)
    today_rows: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.issue_id:
            per_issue[row.issue_id][local_day[row.key]] += 1
            if local_day[row.key] == days[-1]:
                today_rows[row.issue_id].append(row)
    ranked = sorted(today_rows, key=lambda issue_id: (-len(today_rows[issue_id]), issue_id))[:TOP_ISSUES]
    if not ranked:
        return []
    meta = {row.id: row for row in connection.execute(select(issues).where(issues.c.id.in_(ranked)))}
    lines = []
    for issue_id in ranked:
        counts = per_issue[issue_id]
        before = [counts[d] for d in days[:-1]]
        posts = sorted(today_rows[issue_id], key=lambda row: row.compound)
        lines.append(
            IssueLine(
                id=issue_id,
                label=meta[issue_id].label,
                today=counts[days[-1]],
                average_before=statistics.fmean(before) if before else 0.0,
                series=[counts[d] for d in days],
                new=day_start <= as_utc(meta[issue_id].created_at) < day_end,
                negative_share=sum(row.sentiment == "negative" for row in posts) / len(posts),
                examples=[" ".join(row.text.split())[:220] for row in posts[:EXAMPLES_PER_ISSUE]],
            )
        )
    return lines


def _spreading(connection: Connection, brand: str, day_start: datetime, day_end: datetime) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(cascades, mentions.c.text, mentions.c.url, authors.c.handle)
        .outerjoin(mentions, mentions.c.key == cascades.c.root_key)
        .outerjoin(authors, authors.c.key == mentions.c.author_key)
        .where(
            cascades.c.brand == brand,
            cascades.c.size > 0,
            cascades.c.last_event_at >= day_start,
            cascades.c.started_at < day_end,
        )
        .order_by(cascades.c.size.desc(), cascades.c.root_key)
        .limit(TOP_CASCADES)
    ).all()
    return [
        {
            "platform": row.platform,
            "handle": row.handle or "(post not collected)",
            "text": " ".join((row.text or "").split())[:240],
            "url": row.url if (row.url or "").startswith("https://") else None,
            "size": row.size,
            "authors": row.authors,
            "reach": row.reach,
            "negative_share": row.negative_share,
            "predicted_final": row.predicted_final,
        }
        for row in rows
    ]


def _minutes(deltas: list[timedelta]) -> float | None:
    return statistics.median(delta.total_seconds() / 60 for delta in deltas) if deltas else None


def _incidents(connection: Connection, digest: BrandDigest, brand: str, day_start: datetime, day_end: datetime) -> None:
    rows = connection.execute(select(incidents).where(incidents.c.brand == brand)).all()

    def during(value: datetime | None) -> bool:
        return value is not None and day_start <= as_utc(value) < day_end

    opened = [row for row in rows if during(row.opened_at)]
    digest.incident_counts = {
        "opened": len(opened),
        "acknowledged": sum(during(row.acknowledged_at) for row in rows),
        "resolved": sum(during(row.resolved_at) for row in rows),
        "still_open": sum(row.status == "open" for row in rows),
    }
    digest.minutes_to_alert = _minutes([as_utc(row.opened_at) - as_utc(row.first_seen_at) for row in opened])
    digest.minutes_to_acknowledge = _minutes(
        [as_utc(row.acknowledged_at) - as_utc(row.opened_at) for row in opened if row.acknowledged_at]
    )
    digest.incidents = [
        {"id": row.id, "rule": row.rule, "severity": row.severity, "status": row.status, "title": row.title}
        for row in sorted(opened, key=lambda row: (-row.severity, row.id))
    ]


def _repeat_complainers(rows: Sequence[Any], local_day: dict[str, date], day: date) -> list[dict[str, Any]]:
    complaints: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.sentiment == "negative" and row.kind != "reshare":
            complaints[person_of(row.handle) or row.author_key].append(row)
    people = []
    for posts in complaints.values():
        if len(posts) >= 2 and any(local_day[post.key] == day for post in posts):
            people.append({"handle": posts[-1].handle, "complaints": len(posts)})
    return sorted(people, key=lambda person: (-person["complaints"], person["handle"]))[:10]


def _health(
    connection: Connection,
    config: Config,
    brand: str,
    history_start: datetime,
    day_start: datetime,
    day_end: datetime,
    days_before: int,
) -> list[SourceHealth]:
    names = [source.name for source in config.sources if not source.brands or brand in source.brands]
    runs = connection.execute(
        select(source_runs).where(
            source_runs.c.source.in_(names),
            source_runs.c.started_at >= history_start,
            source_runs.c.started_at < day_end,
        )
    ).all()
    health = []
    for name in names:
        mine = [run for run in runs if run.source == name]
        today = [run for run in mine if as_utc(run.started_at) >= day_start]
        failed = [run for run in today if run.error]
        before = sum(run.stored for run in mine if as_utc(run.started_at) < day_start)
        health.append(
            SourceHealth(
                source=name,
                runs=len(today),
                failed=len(failed),
                stored=sum(run.stored for run in today),
                last_error=failed[-1].error if failed else None,
                stored_before=before / days_before if days_before else 0.0,
            )
        )
    return health


_environment = Environment(
    loader=PackageLoader("alerts", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(digests: list[BrandDigest], generated_at: datetime) -> str:
    return _environment.get_template("digest.html.j2").render(digests=digests, generated_at=generated_at)


def write_digest(store: Store, config: Config, *, day: date | None, brand: str | None, output: Path) -> Path:
    brands = [config.brand(brand)] if brand else list(config.brands)
    with store.engine.connect() as connection:
        digests = [build_brand_digest(connection, config, b, day or datetime.now(b.zone).date()) for b in brands]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_html(digests, datetime.now(UTC)), encoding="utf-8")
    return output
