"""Case history: what the same person said before, and what became of it.

People are matched by author id on one platform and by handle across
platforms, so that nobody has to ask a customer to repeat their story.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from alerts.rules import Finding
from reputation.store import as_utc
from reputation.store.queries import enriched_mentions
from reputation.store.schema import authors, enrichments, incidents, mentions

HISTORY_ITEMS = 5
SNIPPET_CHARS = 160


def case_history(connection: Connection, finding: Finding, now: datetime) -> list[dict[str, Any]]:
    author = connection.execute(select(authors.c.handle).where(authors.c.key == finding.author_key)).first()
    same_person = authors.c.key == finding.author_key
    if author is not None and author.handle:
        same_person = or_(same_person, func.lower(authors.c.handle) == author.handle.lower())
    rows = connection.execute(
        select(
            mentions.c.key,
            mentions.c.platform,
            mentions.c.created_at,
            mentions.c.text,
            enrichments.c.sentiment,
            incidents.c.status,
        )
        .select_from(enriched_mentions(enrichment="outer"))
        .outerjoin(incidents, incidents.c.mention_key == mentions.c.key)
        .where(same_person, mentions.c.key != finding.mention_key, mentions.c.created_at < finding.first_seen_at)
        .order_by(mentions.c.created_at.desc())
        .limit(HISTORY_ITEMS)
    ).all()
    history = []
    for row in rows:
        text = " ".join(row.text.split())
        history.append(
            {
                "key": row.key,
                "platform": row.platform,
                "when": as_utc(row.created_at).strftime("%Y-%m-%d %H:%M UTC"),
                "snippet": text[:SNIPPET_CHARS] + ("\u2026" if len(text) > SNIPPET_CHARS else ""),
                "sentiment": row.sentiment,
                "incident": row.status,
            }
        )
    return history
