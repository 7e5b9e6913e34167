"""Reading one brand's day from the store into a `BrandDigest`.

The day is the brand's own: local midnight to midnight, or from `digest.day_starts_at`
to the same time the next day. Days before the brand's first mention
or source run count as "no data", never as zero, so that a monitor switched on
last Tuesday does not report today as a surge over an empty week. Verdicts use
the alert rules' own thresholds, so the digest and the alerts agree.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from alerts.digest.operations import incidents, source_health, undelivered_alerts
from alerts.digest.records import BrandDigest, Complainer, Criteria, DayVolume, IssueLine, SpreadLine
from alerts.digest.responses import response_summary
from alerts.queries import (
    brand_posts,
    cascades_grown,
    complaints_by_person,
    first_run_at,
    issues_with_topics,
    person_of,
)
from alerts.rules import issue_spike_params
from reputation.config import BrandConfig, Config
from reputation.issues.granularity import MIN_GROUP
from reputation.issues.topics import topic_and_issue
from reputation.issues.trends import TrendParams, assess_issue, brand_baseline
from reputation.replies.owned import OwnedAccounts
from reputation.store import as_utc
from reputation.store.counts import first_mention_at
from reputation.wording import snippet

TOP_ISSUES = 8
TOP_CASCADES = 5
TOP_COMPLAINERS = 10
EXAMPLES_PER_ISSUE = 2
# One person posting three times is not a trend: new and spiking issues need this many people.
MIN_PEOPLE = 2


def build_brand_digest(
    connection: Connection, config: Config, brand: BrandConfig, day: date, now: datetime | None = None
) -> BrandDigest:
    now = now or datetime.now(UTC)
    spike = config.alerts.rules.issue_spike
    repeat = config.alerts.rules.repeat_complainer
    days = [day - timedelta(days=offset) for offset in range(config.digest.history_days - 1, -1, -1)]
    earliest = min(days[0], day - timedelta(days=spike.baseline_days))
    fetch_start, _ = config.digest.day_bounds(earliest, brand.zone)
    day_start, day_end = config.digest.day_bounds(day, brand.zone)
    sources = [s for s in config.sources if not s.brands or brand.name in s.brands]
    since = _monitoring_since(connection, config, brand, [s.name for s in sources])

    rows = brand_posts(connection, brand.name, fetch_start, day_end)
    local_day = {row.key: config.digest.day_of(as_utc(row.created_at), brand.zone) for row in rows}
    volumes = {d: DayVolume(d, monitored=since is not None and d >= since) for d in days}
    unanalysed = 0
    for row in rows:
        volume = volumes.get(local_day[row.key])
        if volume is None:
            continue
        if row.sentiment in ("negative", "neutral", "positive"):
            setattr(volume, row.sentiment, getattr(volume, row.sentiment) + 1)
        elif local_day[row.key] == day:
            unanalysed += 1

    digest = BrandDigest(
        brand=brand.name,
        day=day,
        timezone=brand.timezone,
        generated_at=now,
        day_start=day_start,
        day_end=day_end,
        criteria=Criteria(
            spike_ratio=spike.min_ratio,
            spike_p_threshold=spike.p_threshold,
            spike_min_history_days=spike.min_history_days,
            spike_baseline_days=spike.baseline_days,
            spike_min_posts=spike.min_posts,
            spike_min_authors=spike.min_authors,
            min_people=MIN_PEOPLE,
            repeat_min_complaints=repeat.min_complaints,
            repeat_window_days=repeat.window_days,
        ),
        volumes=[volumes[d] for d in days],
        unanalysed=unanalysed,
    )
    monitored_days = {d for d in volumes if volumes[d].monitored}
    baseline_days = [day - timedelta(days=n) for n in range(spike.baseline_days, 0, -1)]
    if since is not None:
        baseline_days = [d for d in baseline_days if d >= since]
    # Days in the brand's zone are the digest's windows, whatever window the alert rule uses.
    params = issue_spike_params(spike, window_hours=24)
    lines = _issue_lines(connection, digest, rows, local_day, days, monitored_days, baseline_days, day_start, params)
    digest.issues = sorted(lines, key=lambda line: (-line.today, line.id))[:TOP_ISSUES]
    digest.emerging = sorted(
        (line for line in lines if line.status), key=lambda line: (not line.alert_level, -line.today, line.id)
    )
    digest.spreading = _spreading(connection, brand.name, day_start, day_end, OwnedAccounts.from_config(config))
    digest.incident_stats, digest.incidents = incidents(
        connection, brand.name, [s.name for s in sources], day_start, day_end, now
    )
    digest.repeat_complainers = _repeat_complainers(connection, config, brand, day, day_end)
    digest.health = source_health(connection, config, brand, sources, day_start, day_end, fetch_start)
    digest.alerts_retrying, digest.alerts_parked = undelivered_alerts(connection, brand.name)
    digest.responses = response_summary(connection, config, brand, day_start, day_end, now)
    return digest


def _monitoring_since(
    connection: Connection, config: Config, brand: BrandConfig, source_names: list[str]
) -> date | None:
    """The brand's first digest day with data: its first mention or its sources' first run."""
    first_mention = first_mention_at(connection, brand.name)
    first_run = first_run_at(connection, source_names)
    known = [as_utc(value) for value in (first_mention, first_run) if value is not None]
    return config.digest.day_of(min(known), brand.zone) if known else None


def _issue_lines(
    connection: Connection,
    digest: BrandDigest,
    rows: Sequence[Any],
    local_day: dict[str, date],
    days: list[date],
    monitored_days: set[date],
    baseline_days: list[date],
    day_start: datetime,
    params: TrendParams,
) -> list[IssueLine]:
    per_issue: dict[str, Counter[date]] = defaultdict(Counter)
    today_rows: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.issue_id:
            per_issue[row.issue_id][local_day[row.key]] += 1
            if local_day[row.key] == digest.day:
                today_rows[row.issue_id].append(row)
    if not today_rows:
        return []
    meta = issues_with_topics(connection, list(today_rows))
    # Complaints with too few alike to make an issue wait unsorted: counted, never shown as issues of one.
    unsorted = [i for i in today_rows if i in meta and meta[i].size < MIN_GROUP and not meta[i].label_locked]
    digest.unsorted = sum(len(today_rows.pop(issue_id)) for issue_id in unsorted)
    if not today_rows:
        return []
    criteria = digest.criteria
    histories = {issue_id: [counts[d] for d in baseline_days] for issue_id, counts in per_issue.items()}
    totals = [sum(history[j] for history in histories.values()) for j in range(len(baseline_days))]
    baseline = brand_baseline(totals, histories, params)
    lines = []
    for issue_id, posts in today_rows.items():
        counts = per_issue[issue_id]
        before = [counts[d] for d in days[:-1] if d in monitored_days]
        first_seen_at = as_utc(meta[issue_id].created_at) if issue_id in meta else day_start
        new = first_seen_at >= day_start
        per_author = Counter(row.author_key for row in posts)
        people = len({person_of(row.handle) or row.author_key for row in posts})
        today = len(posts)
        trend = assess_issue(
            issue_id,
            histories[issue_id],
            posts=today,
            authors=people,
            counted=sum(min(n, params.max_posts_per_author) for n in per_author.values()),
            new=new,
            baseline=baseline,
            params=params,
        )
        enough_people = people >= criteria.min_people
        spiking = not new and not trend.warming_up and trend.significant and enough_people
        posts.sort(key=lambda row: (row.compound, row.key))
        lines.append(
            IssueLine(
                id=issue_id,
                label=topic_and_issue(meta[issue_id].topic_label, meta[issue_id].label)
                if issue_id in meta
                else issue_id,
                today=today,
                authors=people,
                series=[counts[d] for d in days],
                average_before=statistics.fmean(before) if before else None,
                expected=None if trend.warming_up else trend.expected,
                p_value=trend.p_value,
                first_seen_at=first_seen_at,
                new=new,
                enough_people=enough_people,
                spiking=spiking,
                alert_level=trend.flagged,
                negative_share=sum(row.sentiment == "negative" for row in posts) / today,
                examples=[snippet(row.text, 220) for row in posts[:EXAMPLES_PER_ISSUE]],
            )
        )
    return lines


def _spreading(
    connection: Connection, brand: str, day_start: datetime, day_end: datetime, owned: OwnedAccounts | None = None
) -> list[SpreadLine]:
    """The biggest cascades that grew on this day (replies, quotes, reshares created in it).

    The brand's own posts are left out: its statement drawing replies is not a story spreading.
    """
    rows = cascades_grown(connection, brand, day_start, day_end, TOP_CASCADES, owned)
    return [
        SpreadLine(
            platform=row.platform,
            handle=row.handle if row.text is not None else None,
            text=snippet(row.text, 240),
            url=row.url if (row.url or "").startswith("https://") else None,
            size=row.size,
            events_on_day=row.events,
            authors=row.authors,
            reach=row.reach,
            negative_share=row.negative_share,
            predicted_final=row.predicted_final,
            predicted_low=row.predicted_low,
            predicted_high=row.predicted_high,
            prediction_uncertain=row.prediction_uncertain,
        )
        for row in rows
    ]


def _repeat_complainers(
    connection: Connection, config: Config, brand: BrandConfig, day: date, day_end: datetime
) -> list[Complainer]:
    """People the repeat-complainer rule would flag at the end of the day, who complained on it."""
    rule = config.alerts.rules.repeat_complainer
    by_person = complaints_by_person(
        connection,
        day_end - timedelta(days=rule.window_days),
        day_end,
        brand=brand.name,
        owned=OwnedAccounts.from_config(config),
    )
    people = []
    for posts in by_person.values():
        on_day = sum(config.digest.day_of(as_utc(post.created_at), brand.zone) == day for post in posts)
        occasions = len({post.cascade_key for post in posts})
        if occasions >= rule.min_complaints and on_day:
            people.append(
                Complainer(
                    handle=posts[-1].handle or posts[-1].author_key,
                    occasions=occasions,
                    posts=len(posts),
                    posts_on_day=on_day,
                    platforms=sorted({post.platform for post in posts}),
                )
            )
    people.sort(key=lambda person: (-person.occasions, -person.posts, person.handle))
    return people[:TOP_COMPLAINERS]
