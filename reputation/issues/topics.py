"""Topics: what a CX lead tracks week over week (delivery, battery, refunds), each holding issues.

A topic is a group of issues, found the way issues are found one level up: its centre is the
size-weighted mean of its issues' centres, so the dot product of two centres is the average
similarity between their complaints (average linkage), cut TOPIC_MARGIN below the brand's issue level.
An issue gets its topic once it leaves the unsorted pool and keeps it; topics that grow together
merge (the larger keeps its id), and a topic's id comes from the issue that opened it, so re-runs
give the same ids.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from reputation.issues import granularity
from reputation.text.embeddings import Matrix


def topic_and_issue(topic_label: str | None, issue_label: str) -> str:
    """ "topic > issue", as a CX lead reads it; the issue alone while it has no topic or already names it, the
    topic alone when it holds the issue's every word ("delivery & box", not "delivery & box > delivery")."""
    topic = (topic_label or "").strip()
    if not topic or topic.lower() in issue_label.lower():
        return issue_label
    if _words(issue_label) <= _words(topic):  # "tech & system" holds "system & tech" too
        return topic
    return f"{topic} > {issue_label}"


def _words(label: str) -> set[str]:
    return set(label.lower().replace("&", " ").replace("/", " ").split())


def shown_issue(label: str | None, topic_label: str | None, size: int | None) -> str | None:
    """ "topic > issue" for an alert, or None while the post is unsorted (too few alike yet): a pool of one
    or two posts is no issue a person would recognise."""
    if not label or (size or 0) < granularity.MIN_GROUP:
        return None
    return topic_and_issue(topic_label, label)


def topic_id_for(brand: str | None, issue_id: str) -> str:
    return "top-" + hashlib.sha1(f"{brand}|{issue_id}".encode()).hexdigest()[:10]


@dataclass
class Topic:
    id: str
    brand: str | None
    label: str
    size: int  # complaints in its issues
    created_at: datetime
    last_seen_at: datetime
    label_locked: bool = False
    centroid: Matrix | None = None
    merged_into: str | None = None


@dataclass(frozen=True)
class Member:
    """What a topic needs of an issue."""

    id: str
    size: int
    centroid: Matrix
    created_at: datetime
    last_seen_at: datetime
    topic_id: str | None


def group_topics(
    brand: str | None, members: Iterable[Member], topics: dict[str, Topic], join: float
) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    """Each issue's topic (new ones opened in `topics`) and the topic merges made, as (source, target, sim)."""
    issues = list(members)
    chosen: dict[str, str] = {}
    for member in issues:
        found = resolve(topics, member.topic_id)
        if found is not None and found in topics:
            chosen[member.id] = found
    _recentre(brand, issues, chosen, topics)
    for member in sorted((m for m in issues if m.id not in chosen), key=lambda m: (-m.size, m.id)):
        live = [t for t in topics.values() if t.brand == brand and t.merged_into is None and t.centroid is not None]
        best: Topic | None = None
        if live:
            similarities = np.stack([t.centroid for t in live if t.centroid is not None]) @ member.centroid
            top = int(np.argmax(similarities))
            best = live[top] if similarities[top] >= join else None
        if best is None:
            best = Topic(topic_id_for(brand, member.id), brand, "", 0, member.created_at, member.last_seen_at)
            topics[best.id] = best
        chosen[member.id] = best.id
        _absorb(best, member)
    merges = _merge_close(brand, issues, chosen, topics, join)
    return chosen, merges


def resolve(topics: dict[str, Topic], topic_id: str | None) -> str | None:
    seen: set[str] = set()
    while topic_id and (topic := topics.get(topic_id)) is not None and topic.merged_into and topic_id not in seen:
        seen.add(topic_id)
        topic_id = topic.merged_into
    return topic_id


def _absorb(topic: Topic, member: Member) -> None:
    mean = topic.centroid if topic.centroid is not None else np.zeros_like(member.centroid)
    topic.centroid = ((mean * topic.size + member.centroid * member.size) / (topic.size + member.size)).astype(
        np.float32
    )
    topic.size += member.size
    topic.created_at = min(topic.created_at, member.created_at)
    topic.last_seen_at = max(topic.last_seen_at, member.last_seen_at)


def _recentre(brand: str | None, issues: list[Member], chosen: dict[str, str], topics: dict[str, Topic]) -> None:
    """Centres from the issues as they are now (they grew, merged or split since)."""
    by_topic: defaultdict[str, list[Member]] = defaultdict(list)
    for member in issues:
        if member.id in chosen:
            by_topic[chosen[member.id]].append(member)
    for topic_id, held in by_topic.items():
        topic = topics[topic_id]
        topic.centroid, topic.size = None, 0
        for member in held:
            _absorb(topic, member)


def _merge_close(
    brand: str | None, issues: list[Member], chosen: dict[str, str], topics: dict[str, Topic], join: float
) -> list[tuple[str, str, float]]:
    merges: list[tuple[str, str, float]] = []
    while True:
        live = [t for t in topics.values() if t.brand == brand and t.merged_into is None and t.centroid is not None]
        if len(live) < 2:
            return merges
        matrix = np.stack([t.centroid for t in live if t.centroid is not None])
        similarities = matrix @ matrix.T
        np.fill_diagonal(similarities, -1.0)
        row, column = divmod(int(np.argmax(similarities)), len(live))
        if similarities[row, column] < join:
            return merges
        target, source = sorted((live[row], live[column]), key=lambda t: (-t.size, t.created_at, t.id))
        source.merged_into = target.id
        assert source.centroid is not None
        _absorb(target, Member(source.id, source.size, source.centroid, source.created_at, source.last_seen_at, None))
        for member in issues:
            if chosen.get(member.id) == source.id:
                chosen[member.id] = target.id
        merges.append((source.id, target.id, float(similarities[row, column])))
