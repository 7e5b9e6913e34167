"""Incidents: one per story, announced once, re-announced only on real escalation.

A finding either opens its story's incident or updates it. The announcement is
written to the outbox in the same transaction, so an alert exists exactly when
the incident that caused it does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from alerts.history import case_history
from alerts.rules import Finding
from alerts.slack.blocks import build_message, clip, forecast_text, issue_text
from reputation.alerting import RaisedAlert
from reputation.config import Config, Route, Severity
from reputation.store import as_utc as _as_aware
from reputation.store import upsert
from reputation.store.schema import incidents, outbox

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
FALSE_POSITIVE = "false_positive"


def routes_for(config: Config, finding: Finding) -> list[Route]:
    issue = {finding.facts.get("issue_id"), finding.facts.get("issue_label")} - {None}
    return [
        route
        for route in config.alerts.routes
        if finding.severity >= route.min_severity
        and (not route.brands or finding.brand in route.brands)
        and (not route.issues or bool(issue & set(route.issues)))
    ]


def _insert(connection: Connection, finding: Finding, now: datetime) -> int | None:
    """Insert the incident; None when another worker opened the same story first."""
    try:
        with connection.begin_nested():
            result = connection.execute(
                incidents.insert().values(
                    story_key=finding.story_key,
                    rule=finding.rule,
                    brand=finding.brand,
                    severity=int(finding.severity),
                    status=OPEN,
                    title=finding.title,
                    mention_key=finding.mention_key,
                    author_key=finding.author_key,
                    level=finding.level,
                    details={**finding.facts, "marks": finding.marks},
                    opened_at=now,
                    first_seen_at=finding.first_seen_at,
                    updated_at=now,
                )
            )
    except IntegrityError:
        return None
    key = result.inserted_primary_key
    return int(key[0]) if key else None


def record(
    connection: Connection, config: Config, finding: Finding, now: datetime, env: Mapping[str, str] | None = None
) -> RaisedAlert | None:
    """Open or escalate the finding's incident; returns the alert to announce, if any."""
    existing = connection.execute(
        select(incidents).where(incidents.c.story_key == finding.story_key).with_for_update()
    ).first()
    escalation = False
    reason: str | None = None
    if existing is None:
        incident_id = _insert(connection, finding, now)
        if incident_id is None:
            return None
        announcement = 0
        severity = finding.severity
    else:
        incident_id = existing.id
        severity = max(finding.severity, Severity(existing.severity))
        previous = existing.details or {}
        announcement = int(previous.get("announcements", 1))
        announced_marks: dict[str, float] = previous.get("marks", {})
        # Lines added about the brand's replies (alerts.replies) outlive the rule's fresh facts.
        kept = {key: previous[key] for key in ("response_notes",) if key in previous}
        values: dict[str, Any] = {
            "details": {**finding.facts, **kept, "announcements": announcement, "marks": announced_marks},
            "updated_at": now,
            "title": finding.title,
        }
        reason = escalation_reason(finding, existing.level, announced_marks)
        if reason is None or existing.status == FALSE_POSITIVE:
            connection.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))
            return None
        escalation = True
        values.update(level=max(finding.level, existing.level), severity=int(severity))
        marks = {key: max(value, announced_marks.get(key, 0.0)) for key, value in finding.marks.items()}
        values["details"] = {**finding.facts, **kept, "announcements": announcement + 1, "marks": marks}
        if existing.status == RESOLVED:
            values.update(status=OPEN, resolved_at=None)
        connection.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))
    history = case_history(connection, finding, now) if finding.author_key else []
    alert = RaisedAlert(
        incident_id=incident_id,
        rule=finding.rule,
        severity=str(severity),
        brand=finding.brand,
        title=(f"Escalated ({reason}): " if escalation else "") + finding.title,
        summary=summary_text(finding, history),
        escalation=escalation,
    )
    enqueue(connection, config, alert, finding, history, announcement, now, env)
    return alert


def escalation_reason(finding: Finding, announced_level: float, announced: dict[str, float]) -> str | None:
    """Why this finding deserves a new announcement, or None when it is more of the same."""
    if finding.level >= announced_level * finding.escalate_factor:
        return f"grew from {announced_level:.0f} to {finding.level:.0f}"
    if finding.marks.get("influencer", 0.0) > announced.get("influencer", 0.0):
        return f"an account with {finding.marks['influencer']:,.0f} followers joined the criticism"
    if finding.marks.get("predicted_level", 0.0) > announced.get("predicted_level", 0.0):
        return f"predicted to reach {finding.marks['predicted_level']:,.0f}+"
    return None


def enqueue(
    connection: Connection,
    config: Config,
    alert: RaisedAlert,
    finding: Finding,
    history: list[dict[str, Any]],
    announcement: int | str,
    now: datetime,
    env: Mapping[str, str] | None = None,
    extra_routes: Sequence[Route] = (),
) -> None:
    env = os.environ if env is None else env
    payload = build_message(alert, finding, history)
    routes = {route.name: route for route in [*routes_for(config, finding), *extra_routes]}
    rows = [
        {
            # The key makes a second detect over the same data a no-op for delivery.
            "dedup_key": f"{alert.incident_id}:{announcement}:{route.name}",
            "incident_id": alert.incident_id,
            "route": route.name,
            "payload": payload,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for route in routes.values()
        if env.get(route.secret_env)
    ]
    upsert(connection, outbox, rows, keys=["dedup_key"])


def follow_up_overdue(
    connection: Connection, config: Config, now: datetime, env: Mapping[str, str] | None = None
) -> list[RaisedAlert]:
    """Re-announce incidents nobody acknowledged within their severity's SLA, once each,
    to their own routes and to the escalation route."""
    escalation = [route for route in config.alerts.routes if route.name == config.alerts.escalation_route]
    raised = []
    for row in connection.execute(
        select(incidents)
        .where(incidents.c.status == OPEN, incidents.c.acknowledged_at.is_(None), incidents.c.followed_up_at.is_(None))
        .with_for_update()
    ).all():
        severity = Severity(row.severity)
        sla = config.alerts.sla_for(severity)
        if sla is None or now < _as_aware(row.opened_at) + timedelta(minutes=sla):
            continue
        facts = dict(row.details or {})
        finding = Finding(
            story_key=row.story_key,
            rule=row.rule,
            brand=row.brand,
            severity=severity,
            title=row.title,
            level=row.level,
            first_seen_at=_as_aware(row.first_seen_at),
            mention_key=row.mention_key,
            author_key=row.author_key,
            facts=facts,
        )
        alert = RaisedAlert(
            incident_id=row.id,
            rule=row.rule,
            severity=str(severity),
            brand=row.brand,
            title=f"Nobody has acknowledged this for {sla} min: {row.title}",
            summary=summary_text(finding, []),
            escalation=True,
        )
        connection.execute(update(incidents).where(incidents.c.id == row.id).values(followed_up_at=now))
        enqueue(connection, config, alert, finding, [], "follow-up", now, env, extra_routes=escalation)
        raised.append(alert)
    return raised


def summary_text(finding: Finding, history: list[dict[str, Any]]) -> str:
    """Plain text for the terminal: who, where, how bad, how fast, issue, link, history."""
    facts = finding.facts
    lines: list[str] = []
    if "text" in facts:
        quoted = " ".join(str(facts["text"]).split())
        lines.append(f"\u201c{clip(quoted, 280)}\u201d")
    if facts.get("handle"):
        followers = facts.get("followers")
        audience = f", {followers:,} followers" if isinstance(followers, int) else ""
        lines.append(f"Who: @{facts['handle']} on {facts.get('platform')}{audience}")
    if "cascade_size" in facts:
        predicted = forecast_text(facts)
        forecast = f", predicted final size {predicted}" if predicted else ""
        exposure = facts.get("exposure")
        seen = f" (likely seen by {exposure:,})" if isinstance(exposure, int) else ""
        lines.append(
            f"Spread: {facts['cascade_size']} replies/quotes/reshares from {facts['cascade_authors']} people,"
            f" {facts['velocity_per_hour']:.0f} in the last hour, reach {facts['reach']:,}{seen}{forecast};"
            f" {facts['negative_share']:.0%} of replies negative"
        )
    if issue := issue_text(facts):
        lines.append(f"Issue: {issue}")
    if "posts" in facts and "expected" in facts:
        lines.append(f"Volume: {facts['posts']} posts from {facts['authors']} people vs {facts['expected']} expected")
    if facts.get("last_error"):
        lines.append(f"Last error: {facts['last_error']}")
    if facts.get("url"):
        lines.append(f"Link: {facts['url']}")
    if history:
        lines.append(f"Said before ({len(history)}):")
        lines.extend(f"  {item['when']} on {item['platform']}: {item['snippet']}" for item in history)
    return "\n".join(lines)
