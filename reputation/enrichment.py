"""Enrich: language, sentiment, intent, issue and cascade for every pending mention.

Works through the mentions marked pending (new or edited) in bounded batches,
so a cycle's cost follows what arrived, not what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from reputation import cascades
from reputation.config import Config
from reputation.intent import detect_intent
from reputation.issues import Complaint, Issue, IssueClusterer
from reputation.language import detect_language
from reputation.sentiment import SentimentAnalyzer
from reputation.store import Store, as_utc, upsert
from reputation.store.mentions import mark_enriched
from reputation.store.schema import enrichments, issues, mentions

BATCH_SIZE = 1000
# An issue quiet for this long is no longer matched; a new complaint opens a new one.
ISSUE_FADES_AFTER = timedelta(days=30)


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

    def run(self, store: Store, now: datetime, progress: Callable[[int], None] | None = None) -> EnrichReport:
        report = EnrichReport()
        while True:
            with store.transaction() as connection:
                rows = connection.execute(
                    select(mentions)
                    .where(mentions.c.pending.is_(True))
                    .order_by(mentions.c.created_at)
                    .limit(BATCH_SIZE)
                ).all()
                if not rows:
                    return report
                self._enrich_batch(connection, rows, now, report)
            if progress:
                progress(len(rows))

    def _enrich_batch(self, connection: Connection, rows: Sequence[Any], now: datetime, report: EnrichReport) -> None:
        results = []
        complaints: list[Complaint] = []
        cascade_of = cascades.resolve_cascades(connection, rows)
        for row in rows:
            analyzer = self.analyzers.get(row.brand or "", self.default_analyzer)
            sentiment = analyzer.score(row.text)
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

    def _cluster(self, connection: Connection, complaints: list[Complaint], now: datetime) -> dict[str, str | None]:
        if not complaints:
            return {}
        live = [
            Issue(
                id=row.id,
                brand=row.brand,
                label=row.label,
                terms=dict(row.terms),
                size=row.size,
                created_at=as_utc(row.created_at),
                last_seen_at=as_utc(row.last_seen_at),
                label_locked=row.label_locked,
            )
            for row in connection.execute(
                select(issues).where(issues.c.merged_into.is_(None), issues.c.last_seen_at >= now - ISSUE_FADES_AFTER)
            )
        ]
        clusterer = IssueClusterer(live, ignore_words=self.brand_words)
        assigned = clusterer.assign_all(complaints)
        upsert(
            connection,
            issues,
            [
                {
                    "id": issue.id,
                    "brand": issue.brand,
                    "label": issue.label,
                    "label_locked": issue.label_locked,
                    "terms": issue.terms,
                    "size": issue.size,
                    "created_at": issue.created_at,
                    "last_seen_at": issue.last_seen_at,
                }
                for issue in (clusterer.issues[issue_id] for issue_id in sorted(clusterer.touched))
            ],
            keys=["id"],
            update=["label", "terms", "size", "last_seen_at"],
        )
        return assigned
