"""Cascades: replies, quotes and reshares linked to the post they spread from.

A mention's cascade is the root the platform names; without one, its parent's
cascade; a child whose parent has not arrived yet is parked under the parent's
key and moved when the parent shows up, so arrival order does not matter.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select, update

from reputation.spread import seismic
from reputation.spread.forecast import forecast
from reputation.spread.prior import Prior, Samples, fit, recent_share, shipped
from reputation.store import as_utc, upsert
from reputation.store.queries import enriched_mentions
from reputation.store.schema import authors, cascades, enrichments, mentions, spread_priors

_CONVERSATION_KINDS = {"reply", "comment", "quote"}
SERIES_POINTS = 72
FINISHED_AFTER = timedelta(days=7)  # a cascade this long without events counts as finished
HISTORY_AGES_HOURS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0, 72.0)  # ages at which finished cascades are replayed
HISTORY_LIMIT = 2000  # most recent finished cascades the store's own prior learns from
HISTORY_MIN_FINAL = 10  # the shipped prior's population too: cascades that became a story
RELEARN_AFTER = timedelta(days=1)  # the store's prior is learned again when it is this old


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
    exposure: float = 0.0
    size_series: list[list[float]] = field(default_factory=list)


def resolve_cascades(connection: Connection, rows: Sequence[Any]) -> dict[str, str]:
    """Cascade key of each mention row (key, parent_key, root_key), oldest first, in two queries.

    A child whose parent is unknown is parked under the parent's key; when that
    parent arrives, the children parked under it move to the parent's cascade.
    """
    parents = {row.parent_key for row in rows if row.parent_key and not row.root_key}
    known = dict(_in_chunks(connection, enrichments.c.mention_key, enrichments.c.cascade_key, parents))
    cascade_of: dict[str, str] = {}
    for row in rows:
        if row.root_key:
            cascade_of[row.key] = row.root_key
        elif row.parent_key:
            cascade_of[row.key] = cascade_of.get(row.parent_key) or known.get(row.parent_key) or row.parent_key
        else:
            cascade_of[row.key] = row.key
    parked = {
        key
        for _, key in _in_chunks(
            connection,
            enrichments.c.mention_key,
            enrichments.c.cascade_key,
            set(cascade_of),
            match=enrichments.c.cascade_key,
        )
    }
    moved = [key for key in parked if cascade_of[key] != key]
    if moved:
        # One statement for all the parked keys (executemany, in the same order), not two round trips each.
        connection.execute(
            update(enrichments)
            .where(enrichments.c.cascade_key == bindparam("parked_key"))
            .values(cascade_key=bindparam("cascade_key_now")),
            [{"parked_key": key, "cascade_key_now": cascade_of[key]} for key in moved],
        )
        # The provisional cascades are now part of their parents'; their rows would be ghosts.
        for offset in range(0, len(moved), 500):
            connection.execute(delete(cascades).where(cascades.c.root_key.in_(moved[offset : offset + 500])))
    return cascade_of


def _in_chunks(
    connection: Connection, first: Any, second: Any, values: set[str], match: Any = None, size: int = 500
) -> Iterator[tuple[str, str]]:
    """(first, second) pairs of the rows whose `match` column (default `first`) is in `values`."""
    column = first if match is None else match
    ordered = sorted(values)
    for offset in range(0, len(ordered), size):
        for row in connection.execute(select(first, second).where(column.in_(ordered[offset : offset + size]))):
            yield str(row[0]), str(row[1])


def measure(root_key: str, events: Sequence[CascadeEvent], now: datetime | None = None) -> CascadeMetrics:
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
        exposure=_exposure(events, max(now or last_event_at, last_event_at)),
        size_series=_size_series(children, started_at, last_event_at),
    )


def _exposure(events: Sequence[CascadeEvent], now: datetime) -> float:
    """Followers who have likely seen the post by now: each event's followers weighted by the
    share of SEISMIC's reaction-time kernel already elapsed (unknown follower counts add nothing)."""
    marks = np.array([float(event.followers or 0) for event in events])
    ages = np.array([(now - event.created_at).total_seconds() for event in events])
    elapsed = 1.0 - seismic.kernel_survival(ages, seismic.SeismicParams())
    return float(np.dot(marks, elapsed))


def _size_series(children: Sequence[CascadeEvent], started_at: datetime, last_event_at: datetime) -> list[list[float]]:
    """Events so far at each step since the root: hourly, coarser for long cascades (at most 72 points)."""
    span_hours = max((last_event_at - started_at).total_seconds() / 3600, 0.0)
    step = max(1, math.ceil(span_hours / SERIES_POINTS))
    offsets = sorted((event.created_at - started_at).total_seconds() / 3600 for event in children)
    marks = range(step, max(step, math.ceil(span_hours / step) * step) + 1, step)
    return [[float(hour), float(bisect.bisect_right(offsets, hour))] for hour in marks]


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


@dataclass(frozen=True)
class SpreadPrediction:
    """Predicted final events after the root, the interval that holds it ``level`` of the time, and
    whether the forecast is too loose to act on."""

    final: float
    low: float
    high: float
    uncertain: bool


Measured = Sequence[tuple[CascadeMetrics, Sequence[CascadeEvent]]]
# Predicted final sizes of many cascades from what they show so far, shrunk toward a prior's history.
PredictFinal = Callable[[Measured, datetime, Prior], list[SpreadPrediction | None]]


def _seismic_inputs(metrics: CascadeMetrics, events: Sequence[CascadeEvent]) -> tuple[list[float], list[float | None]]:
    """Seconds since the root and follower counts, root first.

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
    return times, followers


def _platform(root_key: str) -> str:
    return root_key.split(":", 1)[0]


def predict_with_seismic(measured: Measured, now: datetime, prior: Prior) -> list[SpreadPrediction | None]:
    """SEISMIC on each cascade as observed until now, blended with ``prior`` (one batch)."""
    if not measured:
        return []
    inputs = [_seismic_inputs(metrics, events) for metrics, events in measured]
    ages = np.array([(max(now, metrics.last_event_at) - metrics.started_at).total_seconds() for metrics, _ in measured])
    raw = seismic.predict_many(inputs, ages.tolist())
    blended = forecast(
        prior,
        [_platform(metrics.root_key) for metrics, _ in measured],
        ages,
        np.array([float(result.observed) for result in raw]),
        np.array([recent_share(times[1:], age) for (times, _), age in zip(inputs, ages.tolist(), strict=True)]),
        np.array([result.predicted_final for result in raw]),
    )
    return [
        SpreadPrediction(
            final=float(blended.predicted_final[i]),
            low=float(blended.low[i]),
            high=float(blended.high[i]),
            uncertain=bool(blended.uncertain[i]),
        )
        for i in range(len(raw))
    ]


def current_prior(connection: Connection, now: datetime) -> Prior:
    """The store's own prior over the shipped one, learned again once it is a day old.

    Learning replays up to ``HISTORY_LIMIT`` cascades (seconds of work), so the result is
    kept in the store: every process (an Airflow task, a CLI run) reuses the day's.
    """
    row = connection.execute(select(spread_priors).where(spread_priors.c.key == "store")).one_or_none()
    if row is not None and now - as_utc(row.learned_at) < RELEARN_AFTER:
        return Prior.from_json(json.dumps(row.prior)).over(shipped())
    own = _own_prior(connection, now, shipped())
    upsert(
        connection,
        spread_priors,
        [{"key": "store", "prior": json.loads(own.to_json()), "learned_at": now}],
        keys=["key"],
        update=["prior", "learned_at"],
    )
    return own.over(shipped())


def learned_prior(connection: Connection, now: datetime, base: Prior | None = None) -> Prior:
    """The store's finished cascades, replayed at ``HISTORY_AGES_HOURS``, over ``base`` (the shipped prior).

    A cell the store has too few samples for keeps ``base``'s, so a new store forecasts
    from the shipped prior and its own history takes over cell by cell.
    """
    base = base if base is not None else shipped()
    return _own_prior(connection, now, base).over(base)


def _own_prior(connection: Connection, now: datetime, base: Prior) -> Prior:
    """The cells the store's finished cascades support (none when it has too few)."""
    rows = connection.execute(
        select(cascades.c.root_key, cascades.c.size)
        .where(cascades.c.last_event_at < now - FINISHED_AFTER, cascades.c.size >= HISTORY_MIN_FINAL)
        .order_by(cascades.c.last_event_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    if not rows:
        return Prior(level=base.level, max_ratio=base.max_ratio, source="store", min_final=HISTORY_MIN_FINAL)
    events = load_events(connection, [row.root_key for row in rows])
    platforms: list[str] = []
    ages: list[float] = []
    finals: list[float] = []
    inputs: list[tuple[list[float], list[float | None]]] = []
    for root_key, found in events.items():
        metrics = measure(root_key, found)
        times, followers = _seismic_inputs(metrics, found)
        for hours in HISTORY_AGES_HOURS:
            platforms.append(_platform(root_key))
            ages.append(hours * 3600.0)
            finals.append(float(metrics.size))
            inputs.append((times, followers))
    raw = seismic.predict_many(inputs, ages)
    samples = Samples(
        platform=platforms,
        age_seconds=np.array(ages),
        observed=np.array([float(result.observed) for result in raw]),
        recent=np.array([recent_share(times[1:], age) for (times, _), age in zip(inputs, ages, strict=True)]),
        seismic_final=np.array([result.predicted_final for result in raw]),
        final=np.array(finals),
    )
    return fit(samples, level=base.level, max_ratio=base.max_ratio, min_final=HISTORY_MIN_FINAL, source="store")


def load_events(connection: Connection, root_keys: Iterable[str], size: int = 500) -> dict[str, list[CascadeEvent]]:
    ordered = sorted(set(root_keys))
    events: dict[str, list[CascadeEvent]] = {}
    for offset in range(0, len(ordered), size):
        rows = connection.execute(
            select(
                enrichments.c.cascade_key,
                mentions.c.key,
                mentions.c.parent_key,
                mentions.c.kind,
                mentions.c.author_key,
                authors.c.followers,
                mentions.c.created_at,
                enrichments.c.sentiment,
                mentions.c.brand,
            )
            .select_from(enriched_mentions())
            .where(enrichments.c.cascade_key.in_(ordered[offset : offset + size]))
        ).all()
        for row in rows:
            events.setdefault(row.cascade_key, []).append(
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
            )
    return events


def refresh(
    connection: Connection,
    root_keys: Iterable[str],
    now: datetime,
    predict: PredictFinal | None = None,
    prior: Prior | None = None,
) -> list[CascadeMetrics]:
    """Recompute the metrics of the cascades touched this cycle and store them, in one statement.

    ``prior`` (default: the shipped one) is what ``predict`` shrinks toward.
    """
    events = load_events(connection, root_keys)
    measured = [(measure(root_key, found, now), found) for root_key, found in sorted(events.items())]
    predicted = predict(measured, now, prior or shipped()) if predict else [None] * len(measured)
    upsert(
        connection,
        cascades,
        [
            {
                "root_key": metrics.root_key,
                "platform": metrics.root_key.split(":", 1)[0],
                "brand": metrics.brand,
                "root_seen": metrics.root_seen,
                "size": metrics.size,
                "depth": metrics.depth,
                "authors": metrics.authors,
                "reach": metrics.reach,
                "velocity_per_hour": metrics.velocity_per_hour,
                "negative_share": metrics.negative_share,
                "predicted_final": final.final if final else None,
                "predicted_low": final.low if final else None,
                "predicted_high": final.high if final else None,
                "prediction_uncertain": final.uncertain if final else None,
                "exposure": metrics.exposure,
                "size_series": metrics.size_series,
                "started_at": metrics.started_at,
                "last_event_at": metrics.last_event_at,
                "updated_at": now,
            }
            for (metrics, _), final in zip(measured, predicted, strict=True)
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
            "predicted_low",
            "predicted_high",
            "prediction_uncertain",
            "exposure",
            "size_series",
            "started_at",
            "last_event_at",
            "updated_at",
        ],
    )
    return [metrics for metrics, _ in measured]
