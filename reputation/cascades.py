"""Cascades: replies, quotes and reshares linked to the post they spread from.

A mention's cascade is the root the platform names; without one, its parent's
cascade; a child whose parent has not arrived yet is parked under the parent's
key and moved when the parent shows up, so arrival order does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from reputation import seismic
from reputation.store import as_utc, upsert
from reputation.store.schema import authors, cascades, enrichments, mentions

_CONVERSATION_KINDS = {"reply", "comment", "quote"}


@dataclass(frozen=True)
class CascadeEvent:
    key: str
    parent_key: str | None
    kind: str
    author_key: str
    followers: int | None
    created_at: datetime
    negative: bool
    brand: str | None


@dataclass(frozen=True)
class CascadeMetrics:
    root_key: str
    brand: str | None
    root_seen: bool
    size: int
    depth: int
    authors: int
    reach: int
    velocity_per_hour: float
    negative_share: float
    started_at: datetime
    last_event_at: datetime


def resolve_cascade(connection: Connection, key: str, parent_key: str | None, root_key: str | None) -> str:
    if root_key:
        return root_key
    if not parent_key:
        return key
    parent_cascade = connection.scalar(select(enrichments.c.cascade_key).where(enrichments.c.mention_key == parent_key))
    return str(parent_cascade) if parent_cascade else parent_key


def adopt_children(connection: Connection, key: str, cascade_key: str) -> None:
    """Children parked under `key` (their parent, not yet seen) move to its cascade."""
    if cascade_key != key:
        connection.execute(update(enrichments).where(enrichments.c.cascade_key == key).values(cascade_key=cascade_key))


def measure(root_key: str, events: Sequence[CascadeEvent]) -> CascadeMetrics:
    root = next((event for event in events if event.key == root_key), None)
    children = [event for event in events if event.key != root_key]
    times = [event.created_at for event in events]
    started_at = root.created_at if root else min(times)
    last_event_at = max(times)
    followers_by_author: dict[str, int] = {}
    for event in events:
        followers_by_author[event.author_key] = max(followers_by_author.get(event.author_key, 0), event.followers or 0)
    recent = [event for event in children if event.created_at > last_event_at - timedelta(hours=1)]
    talk = [event for event in children if event.kind in _CONVERSATION_KINDS]
    brands = [event.brand for event in ([root] if root else []) + children if event.brand]
    return CascadeMetrics(
        root_key=root_key,
        brand=brands[0] if brands else None,
        root_seen=root is not None,
        size=len(children),
        depth=_depth(root_key, events),
        authors=len(followers_by_author),
        reach=sum(followers_by_author.values()),
        velocity_per_hour=float(len(recent)),
        negative_share=(sum(event.negative for event in talk) / len(talk)) if talk else 0.0,
        started_at=started_at,
        last_event_at=last_event_at,
    )


def _depth(root_key: str, events: Sequence[CascadeEvent]) -> int:
    parents = {event.key: event.parent_key for event in events}
    deepest = 0
    for key in parents:
        depth, current, seen = 0, key, set()
        while current != root_key and current in parents and current not in seen:
            seen.add(current)
            parent = parents[current]
            depth += 1
            if parent is None:
                break
            current = parent
        deepest = max(deepest, depth)
    return deepest


# Predicted final size (events after the root) from the cascade so far.
PredictFinal = Callable[[CascadeMetrics, Sequence[CascadeEvent], datetime], float | None]


def predict_with_seismic(metrics: CascadeMetrics, events: Sequence[CascadeEvent], now: datetime) -> float | None:
    """SEISMIC on the cascade as observed until now (a quiet cascade predicts little more).

    Replies and quotes count as reshares here: all three put the post in front
    of the replier's followers, which is what the model's marks stand for.
    """
    root = next((event for event in events if event.key == metrics.root_key), None)
    children = sorted((event for event in events if event is not root), key=lambda event: event.created_at)
    start = metrics.started_at
    times = [0.0] + [(event.created_at - start).total_seconds() for event in children]
    followers: list[float | None] = [
        float(root.followers) if root and root.followers is not None else None,
        *(float(event.followers) if event.followers is not None else None for event in children),
    ]
    observed = (max(now, metrics.last_event_at) - start).total_seconds()
    return seismic.predict(times, followers, observed).predicted_final


def load_events(connection: Connection, root_key: str) -> list[CascadeEvent]:
    rows = connection.execute(
        select(
            mentions.c.key,
            mentions.c.parent_key,
            mentions.c.kind,
            mentions.c.author_key,
            authors.c.followers,
            mentions.c.created_at,
            enrichments.c.sentiment,
            mentions.c.brand,
        )
        .join(enrichments, enrichments.c.mention_key == mentions.c.key)
        .join(authors, authors.c.key == mentions.c.author_key)
        .where(enrichments.c.cascade_key == root_key)
    ).all()
    return [
        CascadeEvent(
            key=row.key,
            parent_key=row.parent_key,
            kind=row.kind,
            author_key=row.author_key,
            followers=row.followers,
            created_at=as_utc(row.created_at),
            negative=row.sentiment == "negative",
            brand=row.brand,
        )
        for row in rows
    ]


def refresh(
    connection: Connection,
    root_keys: Iterable[str],
    now: datetime,
    predict: PredictFinal | None = None,
) -> list[CascadeMetrics]:
    """Recompute the metrics of the cascades touched this cycle and store them."""
    measured: list[CascadeMetrics] = []
    for root_key in sorted(set(root_keys)):
        events = load_events(connection, root_key)
        if not events:
            continue
        metrics = measure(root_key, events)
        predicted = predict(metrics, events, now) if predict else None
        upsert(
            connection,
            cascades,
            [
                {
                    "root_key": root_key,
                    "platform": root_key.split(":", 1)[0],
                    "brand": metrics.brand,
                    "root_seen": metrics.root_seen,
                    "size": metrics.size,
                    "depth": metrics.depth,
                    "authors": metrics.authors,
                    "reach": metrics.reach,
                    "velocity_per_hour": metrics.velocity_per_hour,
                    "negative_share": metrics.negative_share,
                    "predicted_final": predicted,
                    "started_at": metrics.started_at,
                    "last_event_at": metrics.last_event_at,
                    "updated_at": now,
                }
            ],
            keys=["root_key"],
            update=[
                "brand",
                "root_seen",
                "size",
                "depth",
                "authors",
                "reach",
                "velocity_per_hour",
                "negative_share",
                "predicted_final",
                "started_at",
                "last_event_at",
                "updated_at",
            ],
        )
        measured.append(metrics)
    return measured
