"""The alerts' own reads: the SQL behind the rules and the daily digest, in one place.

The rules (alerts/rules.py) decide and the digest (alerts/digest/build.py)
assembles; what they read from the store is written here, so that a rule and
the digest that reports on it read the same rows (the repeat-complainer rule and
the digest count complaints from `complaints_by_person`, for one). The shared
"mention + enrichment + author" join comes from reputation.store.queries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, literal, or_, select, true

from reputation.replies.owned import OwnedAccounts
from reputation.store.queries import enriched_mentions
from reputation.store.schema import authors, cascades, enrichments, issues, mentions, source_runs, topics

# A result row of any columns: its fields are read by name (`row.handle`).
Record = Row[*tuple[Any, ...]]


def person_of(handle: str) -> str:
    """The key that matches one person across platforms: the handle without @, case or punctuation."""
    return re.sub(r"[^a-z0-9]", "", handle.lower())


def negative_cascades(connection: Connection, owned: OwnedAccounts, active_since: datetime) -> Sequence[Record]:
    """Cascades active since `active_since` whose root is a negative post not by an owned account.

    Each row is the cascade, its root post and author, the root's issue and topic,
    `loudest_critic` (the most followed negative voice in the cascade) and
    `owned_reach` (followers of owned accounts that took part, no audience of the complaint).
    """
    not_owned = owned.not_owned()
    owned_reach = (
        select(func.coalesce(func.sum(authors.c.followers), 0))
        .where(
            owned.clause(),
            authors.c.key.in_(
                select(mentions.c.author_key)
                .join(enrichments, enrichments.c.mention_key == mentions.c.key)
                .where(enrichments.c.cascade_key == cascades.c.root_key)
            ),
        )
        .scalar_subquery()
        if owned.brands
        else literal(0)
    )
    loudest_critic = (
        select(func.max(authors.c.followers))
        .select_from(enriched_mentions())
        .where(enrichments.c.cascade_key == cascades.c.root_key, enrichments.c.sentiment == "negative", not_owned)
        .scalar_subquery()
    )
    query = (
        select(
            cascades,
            mentions.c.text,
            mentions.c.url,
            mentions.c.author_key,
            mentions.c.created_at,
            authors.c.handle,
            authors.c.followers,
            enrichments.c.compound,
            enrichments.c.needs_help,
            enrichments.c.intents,
            enrichments.c.issue_id,
            issues.c.label.label("issue_label"),
            issues.c.size.label("issue_size"),
            topics.c.label.label("topic_label"),
            loudest_critic.label("loudest_critic"),
            owned_reach.label("owned_reach"),
        )
        .select_from(cascades.join(enriched_mentions(), mentions.c.key == cascades.c.root_key))
        .outerjoin(issues, issues.c.id == enrichments.c.issue_id)
        .outerjoin(topics, topics.c.id == issues.c.topic_id)
        .where(cascades.c.last_event_at >= active_since, enrichments.c.sentiment == "negative", not_owned)
    )
    return connection.execute(query).all()


def complaints_by_person(
    connection: Connection,
    start: datetime,
    end: datetime | None = None,
    brand: str | None = None,
    owned: OwnedAccounts | None = None,
) -> dict[tuple[str | None, str], list[Any]]:
    """Negative original posts since `start` (before `end`), oldest first, per (brand, person).

    The repeat-complainer rule and the digest both count from here, so they agree.
    """
    query = (
        select(
            mentions.c.key,
            mentions.c.brand,
            mentions.c.platform,
            mentions.c.created_at,
            mentions.c.text,
            mentions.c.url,
            mentions.c.author_key,
            authors.c.handle,
            enrichments.c.cascade_key,
        )
        .select_from(enriched_mentions())
        .where(
            mentions.c.created_at >= start,
            enrichments.c.sentiment == "negative",
            mentions.c.kind != "reshare",
        )
        .order_by(mentions.c.created_at, mentions.c.key)
    )
    if end is not None:
        query = query.where(mentions.c.created_at < end)
    if brand is not None:
        query = query.where(mentions.c.brand == brand)
    if owned is not None and owned.brands:
        query = query.where(owned.not_owned())  # the brand's own posts are no complaint
    by_person: dict[tuple[str | None, str], list[Any]] = defaultdict(list)
    for row in connection.execute(query):
        by_person[(row.brand, person_of(row.handle) or row.author_key)].append(row)
    return by_person


def latest_runs(connection: Connection, source: str, count: int) -> Sequence[Record]:
    """A source's `count` most recent runs, newest first: their error (None when it succeeded) and start."""
    return connection.execute(
        select(source_runs.c.error, source_runs.c.started_at)
        .where(source_runs.c.source == source)
        .order_by(source_runs.c.started_at.desc(), source_runs.c.id.desc())
        .limit(count)
    ).all()


def first_run_at(connection: Connection, sources: Sequence[str]) -> datetime | None:
    """When the first run of any of these sources started (None: none has run)."""
    if not sources:
        return None
    found: datetime | None = connection.scalar(
        select(func.min(source_runs.c.started_at)).where(source_runs.c.source.in_(list(sources)))
    )
    return found


def last_productive_run_at(connection: Connection, source: str) -> datetime | None:
    """When the source's last run that stored something new started (None: never)."""
    found: datetime | None = connection.scalar(
        select(func.max(source_runs.c.started_at)).where(source_runs.c.source == source, source_runs.c.stored > 0)
    )
    return found


def cascade_spread(connection: Connection, root_key: str) -> Record | None:
    """The size and reach of the cascade rooted at `root_key`, if there is one."""
    return connection.execute(select(cascades.c.size, cascades.c.reach).where(cascades.c.root_key == root_key)).first()


def issue_label_and_size(connection: Connection, issue_id: str | None) -> Record | None:
    """The issue's label, size and topic label, if it exists."""
    return connection.execute(
        select(issues.c.label, issues.c.size, topics.c.label.label("topic_label"))
        .outerjoin(topics, topics.c.id == issues.c.topic_id)
        .where(issues.c.id == issue_id)
    ).first()


def brand_posts(connection: Connection, brand: str, start: datetime, end: datetime) -> Sequence[Record]:
    """The brand's posts created in [start, end), with author handle and, where analysed, sentiment and issue."""
    return connection.execute(
        select(
            mentions.c.key,
            mentions.c.text,
            mentions.c.created_at,
            mentions.c.author_key,
            authors.c.handle,
            enrichments.c.sentiment,
            enrichments.c.compound,
            enrichments.c.issue_id,
        )
        .select_from(enriched_mentions(enrichment="outer"))
        .where(mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < end)
    ).all()


def issues_with_topics(connection: Connection, issue_ids: Sequence[str]) -> dict[str, Record]:
    """The stored issues among `issue_ids`, by id, each with its topic's label as `topic_label`."""
    found = connection.execute(
        select(issues, topics.c.label.label("topic_label"))
        .outerjoin(topics, topics.c.id == issues.c.topic_id)
        .where(issues.c.id.in_(list(issue_ids)))
    )
    return {row.id: row for row in found}


def cascades_grown(
    connection: Connection,
    brand: str,
    start: datetime,
    end: datetime,
    limit: int,
    owned: OwnedAccounts | None = None,
) -> Sequence[Record]:
    """The `limit` biggest cascades of the brand that grew in [start, end), biggest first.

    Each row is the cascade, `events` (its replies, quotes and reshares created in
    the window), and its root's text, url and author handle (None where the root
    is not stored). Cascades rooted in an owned account's post are left out.
    """
    grew = (
        select(enrichments.c.cascade_key.label("root_key"), func.count().label("events"))
        .select_from(enriched_mentions(author=None))
        .where(
            mentions.c.brand == brand,
            mentions.c.created_at >= start,
            mentions.c.created_at < end,
            enrichments.c.cascade_key != mentions.c.key,
        )
        .group_by(enrichments.c.cascade_key)
        .subquery()
    )
    return connection.execute(
        select(cascades, grew.c.events, mentions.c.text, mentions.c.url, authors.c.handle)
        .join(grew, grew.c.root_key == cascades.c.root_key)
        .outerjoin(enriched_mentions(enrichment=None, author="outer"), mentions.c.key == cascades.c.root_key)
        .where(
            cascades.c.brand == brand,
            cascades.c.size > 0,
            or_(authors.c.key.is_(None), owned.not_owned() if owned is not None else true()),
        )
        .order_by(cascades.c.size.desc(), cascades.c.root_key)
        .limit(limit)
    ).all()
