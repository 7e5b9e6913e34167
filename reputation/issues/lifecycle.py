"""Issues in the store: load the live ones, assign a cycle's complaints, save what changed.

The enricher calls `IssueLifecycle.assign` with each batch's complaints; everything about
issues that touches the database (corrections from the configuration, merges, splits, the
change log, topics and each brand's grain) is here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Select, insert, select, update

from reputation.config import Config
from reputation.issues.catalog import is_live
from reputation.issues.clustering import ISSUE_FADES_AFTER, MAX_LIVE_ISSUES, Complaint, Issue, IssueClusterer
from reputation.issues.splits import REVIEW_SAMPLE, Split, issues_to_review, review
from reputation.issues.topics import Topic
from reputation.keywords import subject_terms
from reputation.store import as_utc, upsert
from reputation.store.queries import enriched_mentions
from reputation.store.schema import enrichments, issue_changes, issue_granularity, issues, mentions, topics
from reputation.text.embeddings import Embedder, make_embedder


class IssueLifecycle:
    """Holds the issue embedder for a run; one per enricher."""

    def __init__(self, config: Config, embedder: Embedder | None = None) -> None:
        self.config = config
        # Brand names must not decide which issue a complaint belongs to.
        self.brand_words = [word for brand in config.brands for word in (brand.name, *brand.aliases)]
        # Nor must the products a brand is matched by: an issue is a problem, not a product.
        self.products = [
            term for brand in config.brands for rule in brand.keywords.include for term in subject_terms(rule)
        ]
        # Given by the enricher (which embeds every post for sentiment), else loaded on the first complaint.
        self._clusterer_embedder: Embedder | None = embedder

    def assign(self, connection: Connection, complaints: list[Complaint], now: datetime) -> dict[str, str | None]:
        if not complaints:
            return {}
        if self._clusterer_embedder is None:
            self._clusterer_embedder = make_embedder(self.config.issues.embedder)
        # The live set is bounded: recent, unmerged issues only, however long the history.
        live = [
            _issue_from_row(row)
            for row in connection.execute(
                select(issues)
                .where(is_live(now))
                .order_by(issues.c.last_seen_at.desc())
                .limit(MAX_LIVE_ISSUES * max(len(self.config.brands), 1))
            )
        ]
        embedder = self._clusterer_embedder
        # Topics are fewer than live issues; like them, only the recent ones are loaded, however long the history.
        recent = topics.c.last_seen_at >= now - ISSUE_FADES_AFTER
        live_topics = [
            _topic_from_row(row)
            for row in connection.execute(select(topics).where(topics.c.merged_into.is_(None), recent))
        ]
        chosen = {
            (row.brand or None): row.join_similarity
            for row in connection.execute(
                select(issue_granularity).where(issue_granularity.c.embedder == embedder.name)
            )
        }
        clusterer = IssueClusterer(
            live,
            ignore_words=self.brand_words,
            embedder=embedder,
            products=self.products,
            topics=live_topics,
            granularity_by_brand=chosen,
            known={b.name: [(k.name, k.examples) for k in b.issues.known] for b in self.config.brands},
        )
        changes = self._apply_corrections(clusterer, now)
        # Replies follow the complaint their thread started from, even when it was sorted in an earlier cycle.
        threads = {complaint.thread for complaint in complaints if complaint.thread}
        started = {
            row.mention_key: row.issue_id
            for row in connection.execute(
                select(enrichments.c.mention_key, enrichments.c.issue_id).where(
                    enrichments.c.mention_key.in_(threads), enrichments.c.issue_id.is_not(None)
                )
            )
        }
        assigned = clusterer.assign_all(complaints, started)
        _save_topics(connection, clusterer, chosen, now)
        changes += [
            {"at": now, "issue_id": source, "change": "topic_merged", "other_id": target, "detail": f"{sim:.3f}"}
            for source, target, sim in clusterer.topic_merges
        ]
        changes += [
            {
                "at": m.at,
                "issue_id": m.source,
                "change": "merged",
                "other_id": m.target,
                "detail": f"{m.similarity:.3f}",
            }
            for m in clusterer.merges
        ]
        for split in self._review(connection, clusterer, complaints, assigned, now):
            changes.append(
                {
                    "at": split.at,
                    "issue_id": split.source,
                    "change": "split",
                    "other_id": split.target,
                    "detail": f"{len(split.moved)} recent posts left; similarity {split.similarity:.3f}",
                }
            )
            moved = set(split.moved)
            assigned.update({key: split.target for key in assigned if key in moved})
            # This batch's posts are written after this; earlier ones are moved now.
            for start in range(0, len(split.moved), 500):
                connection.execute(
                    update(enrichments)
                    .where(enrichments.c.mention_key.in_(split.moved[start : start + 500]))
                    .values(issue_id=split.target)
                )
        touched = [clusterer.issues[issue_id] for issue_id in sorted(clusterer.touched)]
        if touched:
            upsert(
                connection,
                issues,
                [_issue_row(issue) for issue in touched],
                keys=["id"],
                update=[
                    "label",
                    "label_locked",
                    "terms",
                    "size",
                    "created_at",
                    "last_seen_at",
                    "merged_into",
                    "centroid",
                    "embedder",
                    "examples",
                    "reviewed_size",
                    "topic_id",
                ],
            )
        for change in changes:
            if change["change"] == "merged":
                # Earlier posts follow their issue, so counts and alerts see one issue.
                connection.execute(
                    update(enrichments)
                    .where(enrichments.c.issue_id == change["issue_id"])
                    .values(issue_id=change["other_id"])
                )
        if changes:
            connection.execute(insert(issue_changes), changes)
        return assigned

    def _review(
        self,
        connection: Connection,
        clusterer: IssueClusterer,
        batch: list[Complaint],
        assigned: dict[str, str | None],
        now: datetime,
    ) -> list[Split]:
        """Check the issues that grew this cycle for a split, over their most recent members."""
        found: list[Split] = []
        for issue in issues_to_review(
            clusterer, keep_whole=[*self.config.issues.merge, *self.config.issues.merge.values()]
        ):
            members = [complaint for complaint in batch if assigned.get(complaint.mention_key) == issue.id]
            stored = connection.execute(recent_members(issue.id))
            # An edited post is in both; the batch holds its new text.
            seen = {complaint.mention_key for complaint in members}
            members += [
                Complaint(row.key, row.brand, row.text, as_utc(row.created_at)) for row in stored if row.key not in seen
            ]
            found += review(clusterer, issue, members, now)
        return found

    def _apply_corrections(self, clusterer: IssueClusterer, now: datetime) -> list[dict[str, Any]]:
        """Renames and merges from the configuration, applied before clustering so they hold."""
        changes: list[dict[str, Any]] = []
        for source_id, target_id in self.config.issues.merge.items():
            source, target = clusterer.issues.get(source_id), clusterer.issues.get(clusterer.resolve(target_id))
            if source is not None and target is not None and source.merged_into is None and source is not target:
                clusterer.merge(source, target, 1.0, now)
                changes.append(
                    {
                        "at": now,
                        "issue_id": source.id,
                        "change": "merged",
                        "other_id": target.id,
                        "detail": "configured",
                    }
                )
        clusterer.merges.clear()
        for issue_id, label in self.config.issues.rename.items():
            issue = clusterer.issues.get(issue_id)
            if issue is not None and (issue.label != label or not issue.label_locked):
                issue.label, issue.label_locked = label, True
                clusterer.touched.add(issue.id)
                changes.append(
                    {"at": now, "issue_id": issue.id, "change": "renamed", "other_id": None, "detail": label[:200]}
                )
        return changes


def recent_members(issue_id: str, limit: int = REVIEW_SAMPLE) -> Select[Any]:
    """An issue's most recent posts; found through the (partial) index of posts by issue, whatever the history."""
    return (
        select(mentions.c.key, mentions.c.brand, mentions.c.text, mentions.c.created_at)
        .select_from(enriched_mentions(author=None))
        .where(enrichments.c.issue_id == issue_id)
        .order_by(mentions.c.created_at.desc())
        .limit(limit)
    )


def _save_topics(
    connection: Connection, clusterer: IssueClusterer, chosen: dict[str | None, float], now: datetime
) -> None:
    """The topics as they are after the cycle, and the grain of any brand that got one."""
    rows = [_topic_row(topic, clusterer.embedder.name) for topic in clusterer.topics.values()]
    if rows:
        upsert(connection, topics, rows, keys=["id"], update=[c for c in rows[0] if c != "id"])
    new = {brand: join for brand, join in clusterer.granularity.items() if brand not in chosen}
    if new:
        connection.execute(
            insert(issue_granularity),
            [
                {"brand": brand or "", "embedder": clusterer.embedder.name, "join_similarity": join, "chosen_at": now}
                for brand, join in new.items()
            ],
        )


def _topic_from_row(row: Any) -> Topic:
    return Topic(
        id=row.id,
        brand=row.brand,
        label=row.label,
        size=row.size,
        created_at=as_utc(row.created_at),
        last_seen_at=as_utc(row.last_seen_at),
        label_locked=row.label_locked,
        centroid=np.frombuffer(row.centroid, dtype=np.float32).copy() if row.centroid else None,
        merged_into=row.merged_into,
    )


def _topic_row(topic: Topic, embedder: str) -> dict[str, Any]:
    return {
        "id": topic.id,
        "brand": topic.brand,
        "label": topic.label[:200],
        "label_locked": topic.label_locked,
        "size": topic.size,
        "created_at": topic.created_at,
        "last_seen_at": topic.last_seen_at,
        "merged_into": topic.merged_into,
        "centroid": topic.centroid.astype("<f4").tobytes() if topic.centroid is not None else None,
        "embedder": embedder,
    }


def _issue_from_row(row: Any) -> Issue:
    return Issue(
        id=row.id,
        brand=row.brand,
        label=row.label,
        terms={str(k): float(v) for k, v in dict(row.terms).items()},
        size=row.size,
        created_at=as_utc(row.created_at),
        last_seen_at=as_utc(row.last_seen_at),
        label_locked=row.label_locked,
        centroid=np.frombuffer(row.centroid, dtype=np.float32).copy() if row.centroid else None,
        embedder=row.embedder or "",
        examples=list(row.examples or []),
        merged_into=row.merged_into,
        reviewed_size=row.reviewed_size or 0,
        topic_id=row.topic_id,
    )


def _issue_row(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.id,
        "brand": issue.brand,
        "label": issue.label[:200],
        "label_locked": issue.label_locked,
        "terms": issue.terms,
        "size": issue.size,
        "created_at": issue.created_at,
        "last_seen_at": issue.last_seen_at,
        "merged_into": issue.merged_into,
        "centroid": issue.centroid.astype("<f4").tobytes() if issue.centroid is not None else None,
        "embedder": issue.embedder,
        "examples": issue.examples,
        "reviewed_size": issue.reviewed_size,
        "topic_id": issue.topic_id,
    }
