"""Reads shared by the core and the alerts: a post joined to what the pipeline made of it and to who wrote it.

Rules, the digest, case history, cascades and issue trends all read "mention + enrichment +
author"; the join is written here once so that they agree on what a post is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Connection, FromClause, select

from reputation.store.schema import authors, enrichments, mentions

# "inner": only posts that have one; "outer": every post, NULLs where it has none; None: not joined.
JoinKind = Literal["inner", "outer"] | None


def enriched_mentions(*, enrichment: JoinKind = "inner", author: JoinKind = "inner") -> FromClause:
    """mentions JOIN enrichments JOIN authors, each side inner, outer or left out."""
    joined: FromClause = mentions
    if enrichment is not None:
        joined = joined.join(enrichments, enrichments.c.mention_key == mentions.c.key, isouter=enrichment == "outer")
    if author is not None:
        joined = joined.join(authors, authors.c.key == mentions.c.author_key, isouter=author == "outer")
    return joined


def stored_brands(connection: Connection, keys: Sequence[str] | set[str]) -> dict[str, str | None]:
    """The brand each stored mention was kept for, by mention key (absent keys are not stored)."""
    if not keys:
        return {}
    rows = connection.execute(select(mentions.c.key, mentions.c.brand).where(mentions.c.key.in_(list(keys))))
    return {row.key: row.brand for row in rows}
