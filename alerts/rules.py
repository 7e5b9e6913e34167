"""Alert rules: read the enriched store and name the stories that need a person.

Each rule yields `Finding`s keyed by story, so that everything about one story
(a spreading post, one person's complaints, one issue's burst) lands in one
incident. `level` is the size that escalation compares against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from alerts.queries import (
    cascade_spread,
    complaints_by_person,
    first_run_at,
    issue_label_and_size,
    last_productive_run_at,
    latest_runs,
    negative_cascades,
)
from reputation.config import Config, IssueSpikeRule, Severity
from reputation.issues.topics import shown_issue
from reputation.issues.trends import TrendParams, issue_trends
from reputation.models import clean_label
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import customer_threads
from reputation.spread.prior import shipped
from reputation.spread.spikes import SpikeParams, detect_volume_spike
from reputation.store import as_utc

# Only stories with activity this recent are looked at: detection cost follows
# what is happening, not how much history is stored.
ACTIVE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Finding:
    story_key: str
    rule: str
    brand: str | None
    severity: Severity
    title: str
    level: float
    first_seen_at: datetime
    mention_key: str | None = None
    author_key: str | None = None
    escalate_factor: float = 2.0
    facts: dict[str, Any] = field(default_factory=dict)
    # Thresholds crossed (e.g. the biggest critic's followers); crossing a new one re-announces.
    marks: dict[str, float] = field(default_factory=dict)


def detractor_posts(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    """Negative posts that reach people: a big audience, a growing cascade or a predicted blow-up."""
    # The brand's own accounts speak for it: never a detractor, never a critic, and
    # their followers are no audience of the complaint they answered.
    owned = OwnedAccounts.from_config(config)
    findings = []
    for row in negative_cascades(connection, owned, now - ACTIVE_WINDOW):
        rule = config.detractor_rule(row.brand)
        # An uncertain forecast counts only with its low end: it must not raise a blow-up alert.
        predicted = (row.predicted_low if row.prediction_uncertain else row.predicted_final) or 0.0
        reach = max(0, row.reach - (row.owned_reach or 0))
        qualifies = reach >= rule.min_reach or row.size >= rule.min_cascade or predicted >= rule.min_predicted
        if not rule.enabled or row.compound > rule.max_compound or not qualifies:
            continue
        if rule.require_needs_help and not row.needs_help:
            continue
        big_author = (row.followers or 0) >= rule.influencer_followers
        spread = f"{row.size} replies/quotes/reshares" if row.size else "no replies yet"
        crossed = [level for level in rule.predicted_levels if predicted >= level]
        findings.append(
            Finding(
                story_key=f"detractor:{row.root_key}",
                rule="detractor",
                brand=row.brand,
                severity=Severity.CRITICAL
                if big_author or row.size >= 4 * max(rule.min_cascade, 1) or len(crossed) >= 2
                else rule.severity,
                # Cleaned again: a handle stored before records were cleaned may still hold bidi overrides.
                title=f"Detractor post by @{clean_label(row.handle) or 'unknown'} on {row.platform} ({spread})",
                level=float(max(row.size, 1)),
                first_seen_at=as_utc(row.created_at),
                mention_key=row.root_key,
                author_key=row.author_key,
                escalate_factor=rule.escalate_factor,
                marks={
                    "predicted_level": float(max(crossed, default=0)),
                    "influencer": float(row.loudest_critic or 0)
                    if (row.loudest_critic or 0) >= rule.influencer_followers
                    else 0.0,
                },
                facts={
                    "text": row.text,
                    "url": row.url,
                    "platform": row.platform,
                    "handle": row.handle,
                    "followers": row.followers,
                    "compound": round(row.compound, 3),
                    "intents": list(row.intents),
                    "cascade_size": row.size,
                    "cascade_authors": row.authors,
                    "cascade_depth": row.depth,
                    "reach": reach,
                    "exposure": round(row.exposure) if row.exposure is not None else None,
                    "velocity_per_hour": row.velocity_per_hour,
                    "negative_share": round(row.negative_share, 2),
                    "predicted_final": row.predicted_final,
                    "predicted_low": row.predicted_low,
                    "predicted_high": row.predicted_high,
                    "prediction_uncertain": row.prediction_uncertain,
                    "prediction_level": shipped().level,
                    "issue_id": row.issue_id,
                    "issue_label": shown_issue(row.issue_label, row.topic_label, row.issue_size),
                    "issue_size": row.issue_size,
                },
            )
        )
    return findings


def repeat_complainers(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    rule = config.alerts.rules.repeat_complainer
    if not rule.enabled:
        return []
    by_person = complaints_by_person(
        connection, now - timedelta(days=rule.window_days), owned=OwnedAccounts.from_config(config)
    )
    findings = []
    for (brand, person), posts in by_person.items():
        # Occasions, not posts: follow-ups inside one thread are one complaint.
        occasions = len({post.cascade_key for post in posts})
        if occasions < rule.min_complaints:
            continue
        latest = posts[-1]
        platforms = sorted({post.platform for post in posts})
        findings.append(
            Finding(
                story_key=f"repeat:{brand}:{person}",
                rule="repeat_complainer",
                brand=brand,
                severity=rule.severity,
                title=f"@{latest.handle} has complained {occasions} times in {rule.window_days} days"
                f" ({', '.join(platforms)})",
                level=float(occasions),
                first_seen_at=as_utc(latest.created_at),
                mention_key=latest.key,
                author_key=latest.author_key,
                facts={
                    "text": latest.text,
                    "url": latest.url,
                    "platform": latest.platform,
                    "handle": latest.handle,
                    "complaints": occasions,
                    "platforms": platforms,
                },
            )
        )
    return findings


def issue_spike_params(rule: IssueSpikeRule, window_hours: int | None = None) -> TrendParams:
    """The rule's test, in windows of `window_hours` (default: the rule's own; the digest uses days)."""
    hours = window_hours or rule.window_hours
    return TrendParams(
        window_hours=hours,
        min_history_windows=math.ceil(rule.min_history_days * 24 / hours),
        p_threshold=rule.p_threshold,
        min_ratio=rule.min_ratio,
        min_posts=rule.min_posts,
        min_authors=rule.min_authors,
        max_posts_per_author=rule.max_posts_per_author,
    )


def issue_spikes(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    """Per brand: issues new or far above their own baseline in the window, with the test shown."""
    rule = config.alerts.rules.issue_spike
    if not rule.enabled:
        return []
    params = issue_spike_params(rule)
    findings = []
    for brand in config.brands:
        for issue in issue_trends(connection, brand.name, now, params, rule.baseline_windows):
            trend = issue.trend
            if not trend.flagged:
                continue
            kind = "New issue" if trend.new else "Spiking issue"
            shown = f"{trend.expected:.0f}" if trend.expected >= 10 else f"{trend.expected:.1f}"
            findings.append(
                Finding(
                    story_key=f"issue:{issue.issue_id}",
                    rule="issue_spike",
                    brand=brand.name,
                    severity=rule.severity,
                    title=f"{kind} \u201c{issue.label}\u201d: {trend.posts} posts in {rule.window_hours} h"
                    f" vs {shown} expected",
                    level=float(trend.posts),
                    first_seen_at=issue.first_post_at,
                    facts={
                        "issue_id": issue.issue_id,
                        "issue_label": issue.label,
                        "window_hours": rule.window_hours,
                        **trend.facts(),
                    },
                )
            )
    return findings


def volume_spikes(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    """Per brand: this window's mentions against the same hours of past weeks, with the test shown."""
    rule = config.alerts.rules.volume_spike
    if not rule.enabled:
        return []
    params = SpikeParams(
        weeks=rule.weeks,
        window_hours=rule.window_hours,
        min_history_days=rule.min_history_days,
        p_threshold=rule.p_threshold,
        min_ratio=rule.min_ratio,
        min_authors=rule.min_authors,
        min_seasonal_weeks=min(3, rule.weeks),
    )
    findings = []
    for brand in config.brands:
        spike = detect_volume_spike(connection, brand.name, now, params)
        if spike.is_spike:
            findings.append(
                Finding(
                    story_key=f"volume:{brand.name}:{spike.window_start:%Y-%m-%d}",
                    rule="volume_spike",
                    brand=brand.name,
                    severity=rule.severity,
                    title=f"Volume spike for {brand.name}: {spike.explanation}",
                    level=float(spike.observed),
                    first_seen_at=spike.window_start,
                    facts=spike.facts(),
                )
            )
    return findings


def collection_gaps(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    """Sources failing run after run, and sources configured with `silent_hours` that went quiet."""
    rule = config.alerts.rules.collection_gap
    if not rule.enabled:
        return []
    findings = []
    for source in (source for source in config.sources if source.enabled):
        runs = latest_runs(connection, source.name, rule.failed_runs)
        if len(runs) >= rule.failed_runs and all(run.error for run in runs):
            findings.append(
                _gap(
                    source.name,
                    f"failed {rule.failed_runs} runs in a row",
                    rule.severity,
                    now,
                    {"last_error": runs[0].error},
                )
            )
            continue
        if source.silent_hours is None:
            continue
        window = timedelta(hours=source.silent_hours)
        first_run = first_run_at(connection, [source.name])
        last_new = last_productive_run_at(connection, source.name)
        if first_run is None or as_utc(first_run) > now - window:
            continue  # too young to call it silent
        if last_new is None or as_utc(last_new) < now - window:
            since = f"since {as_utc(last_new):%Y-%m-%d %H:%M} UTC" if last_new else "ever"
            findings.append(
                _gap(
                    source.name,
                    f"brought nothing new for {source.silent_hours} h ({since})",
                    rule.severity,
                    now,
                    {"silent_hours": source.silent_hours},
                )
            )
    return findings


def _gap(source: str, what: str, severity: Severity, now: datetime, facts: dict[str, Any]) -> Finding:
    return Finding(
        story_key=f"gap:{source}",
        rule="collection_gap",
        brand=None,
        severity=severity,
        title=f"Source {source} {what}",
        level=1.0,
        first_seen_at=now,
        facts={"source": source, **facts},
    )


def unanswered_complaints(connection: Connection, config: Config, now: datetime) -> list[Finding]:
    """Complaints no owned account answered within the brand's response SLA for their severity.

    Only brands with owned accounts are judged: without them every post would be
    unanswered. Complaints older than `max_age_hours` are left to the digest.
    """
    rule = config.alerts.rules.unanswered_complaint
    owned = OwnedAccounts.from_config(config)
    if not rule.enabled:
        return []
    findings = []
    for brand in (brand for brand in config.brands if brand.owned_accounts):
        detractor = config.detractor_rule(brand.name)
        # Only where the brand has an account to answer from: on an app store it cannot.
        platforms = {platform for platform, _ in owned.handles(brand.name)}
        since = now - timedelta(hours=rule.max_age_hours)
        # Whether an answer was canned does not matter here: no history for templates.
        for thread in customer_threads(connection, owned, since, brand.name, template_history=timedelta(0)):
            if thread.platform not in platforms or thread.answer is not None or not thread.complaint:
                continue
            if rule.addressed_only and not thread.addressed:
                continue
            if (thread.followers or 0) < rule.min_followers:
                continue
            if rule.require_needs_help and not any(post.needs_help for post in thread.posts):
                continue
            spread = cascade_spread(connection, thread.conversation)
            severity = rule.severity
            if (thread.followers or 0) >= detractor.influencer_followers:
                severity = Severity.CRITICAL
            elif (
                spread is not None
                and thread.key == thread.conversation  # her own post spreads, not one she replied under
                and (spread.reach >= detractor.min_reach or spread.size >= detractor.min_cascade)
            ):
                severity = max(severity, detractor.severity)
            sla = config.response_sla_minutes(brand.name, severity)
            waited = (now - thread.opened_at).total_seconds() / 60
            if sla is None or waited < sla:
                continue
            first = thread.first
            issue = issue_label_and_size(connection, thread.issue_id)
            findings.append(
                Finding(
                    story_key=f"unanswered:{thread.key}",
                    rule="unanswered_complaint",
                    brand=brand.name,
                    severity=severity,
                    title=f"No answer to @{thread.author}'s complaint on {thread.platform} after"
                    f" {_waited(waited)} (response SLA {_waited(sla)})",
                    level=1.0,
                    first_seen_at=thread.opened_at,
                    mention_key=thread.key,
                    author_key=thread.author_key,
                    facts={
                        "text": " ".join(post.text for post in thread.posts[:3]),
                        "url": first.url,
                        "platform": thread.platform,
                        "handle": thread.author,
                        "followers": thread.followers,
                        "waiting_minutes": round(waited),
                        "sla_minutes": sla,
                        "customer_posts": len(thread.posts),
                        "issue_id": thread.issue_id,
                        "issue_label": shown_issue(issue.label, issue.topic_label, issue.size) if issue else None,
                        "issue_size": issue.size if issue else None,
                    },
                )
            )
    return findings


def _waited(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.0f} h"
