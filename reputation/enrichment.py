"""Enrich: language, sentiment, intent, issue and cascade for every pending mention.

Works through the mentions marked pending (new or edited) in bounded batches,
so a cycle's cost follows what arrived, not what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Select, insert, select, true, update

from reputation import cascades
from reputation.config import Config
from reputation.embeddings import Embedder, HashingEmbedder, make_embedder
from reputation.intent import detect_intent
from reputation.issues import MAX_LIVE_ISSUES, Complaint, Issue, IssueClusterer
from reputation.issues.catalog import is_live
from reputation.issues.splits import REVIEW_SAMPLE, Split, issues_to_review, review
from reputation.keywords import subject_terms
from reputation.language import detect_language
from reputation.sentiment import Sentiment, SentimentAnalyzer
from reputation.store import Store, as_utc, upsert
from reputation.store.mentions import mark_enriched
from reputation.store.schema import enrichments, issue_changes, issues, mentions
from reputation.text.classifier import classifier_for

BATCH_SIZE = 1000


@dataclass
class EnrichReport:
    enriched: int = 0
    complaints: int = 0
    cascades: int = 0


class Enricher:
    """Holds the models for a run; one per process is enough."""

    def __init__(self, config: Config, predict: cascades.PredictFinal | None = cascades.predict_with_seismic) -> None:
        self.config = config
        self.predict = predict
        self.analyzers = {brand.name: SentimentAnalyzer(overrides=brand.lexicon) for brand in config.brands}
        self.default_analyzer = SentimentAnalyzer()
        # Brand names must not decide which issue a complaint belongs to.
        self.brand_words = [word for brand in config.brands for word in (brand.name, *brand.aliases)]
        # Nor must the products a brand is matched by: an issue is a problem, not a product.
        self.products = [
            term for brand in config.brands for rule in brand.keywords.include for term in subject_terms(rule)
        ]
        # Sentiment reads every post's embedding; issues get the same embedder instance, which
        # remembers the batch's vectors, so a complaint is embedded once for both.
        self._clusterer_embedder: Embedder | None = make_embedder(config.issues.embedder)
        self.classifier = classifier_for(self._clusterer_embedder)
        self._cleaner = IssueClusterer(
            [], ignore_words=self.brand_words, embedder=HashingEmbedder(), products=self.products
        )

    def run(self, store: Store, now: datetime, progress: Callable[[int], None] | None = None) -> EnrichReport:
        report = EnrichReport()
        while True:
            with store.transaction() as connection:
                # No ORDER BY in SQL: with one, a planner may walk the created_at index
                # through all history to find the few pending rows. A batch is small;
                # it is put in time order here.
                # `= true`, not `IS TRUE`: only the former can use the index on PostgreSQL.
                found = connection.execute(select(mentions).where(mentions.c.pending == true()).limit(BATCH_SIZE))
                rows = sorted(found.all(), key=lambda row: as_utc(row.created_at))
                if not rows:
                    return report
                self._enrich_batch(connection, rows, now, report)
            if progress:
                progress(len(rows))

    def _enrich_batch(self, connection: Connection, rows: Sequence[Any], now: datetime, report: EnrichReport) -> None:
        results = []
        complaints: list[Complaint] = []
        cascade_of = cascades.resolve_cascades(connection, rows)
        for row, sentiment in zip(rows, self._sentiments(rows), strict=True):
            intent = detect_intent(row.text, sentiment, is_review=row.kind == "review")
            cascade_key = cascade_of[row.key]
            results.append(
                {
                    "mention_key": row.key,
                    "language": row.language or detect_language(row.text),
                    "sentiment": sentiment.label,
                    "compound": sentiment.compound,
                    "confidence": sentiment.confidence,
                    "intents": intent.labels,
                    "needs_help": intent.needs_help,
                    "issue_id": None,
                    "cascade_key": cascade_key,
                    "enriched_at": now,
                }
            )
            # Reshares repeat someone else's words; only original complaints make issues.
            if sentiment.label == "negative" and row.kind != "reshare":
                complaints.append(Complaint(row.key, row.brand, row.text, as_utc(row.created_at)))
        assigned = self._cluster(connection, complaints, now)
        for result in results:
            result["issue_id"] = assigned.get(result["mention_key"])
        upsert(
            connection,
            enrichments,
            results,
            keys=["mention_key"],
            update=[column for column in results[0] if column != "mention_key"],
        )
        mark_enriched(connection, [row.key for row in rows])
        measured = cascades.refresh(connection, set(cascade_of.values()), now, self.predict)
        report.enriched += len(rows)
        report.complaints += len(complaints)
        report.cascades += len(measured)

    def _sentiments(self, rows: Sequence[Any]) -> list[Sentiment]:
        """Each row's sentiment: the learned classifier on the brand's lexicon, or the lexicon alone."""
        analyzers = [self.analyzers.get(row.brand or "", self.default_analyzer) for row in rows]
        if self.classifier is None:
            return [analyzer.score(row.text) for analyzer, row in zip(analyzers, rows, strict=True)]
        # The issue clusterer's cleaned text (no brand names, products, handles, links): the
        # vector it will look up for the complaints among these posts.
        vectors = self.classifier.embedder.embed([self._cleaner.clean(row.text) for row in rows])
        found: list[Sentiment | None] = [None] * len(rows)
        for analyzer in {id(a): a for a in analyzers}.values():
            picked = [i for i, a in enumerate(analyzers) if a is analyzer]
            scored = self.classifier.score_many([rows[i].text for i in picked], analyzer, vectors[picked])
            for i, sentiment in zip(picked, scored, strict=True):
                found[i] = sentiment
        return [sentiment for sentiment in found if sentiment is not None]

    def _cluster(self, connection: Connection, complaints: list[Complaint], now: datetime) -> dict[str, str | None]:
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
        clusterer = IssueClusterer(
            live, ignore_words=self.brand_words, embedder=self._clusterer_embedder, products=self.products
        )
        changes = self._apply_corrections(clusterer, now)
        assigned = clusterer.assign_all(complaints)
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
        .join(enrichments, enrichments.c.mention_key == mentions.c.key)
        .where(enrichments.c.issue_id == issue_id)
        .order_by(mentions.c.created_at.desc())
        .limit(limit)
    )


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
    }
