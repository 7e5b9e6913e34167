"""Enrich: language, sentiment, intent, issue and cascade for every pending mention.

Works through the mentions marked pending (new or edited) in bounded batches,
so a cycle's cost follows what arrived, not what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from reputation.config import Config
from reputation.issues import Complaint, IssueClusterer
from reputation.issues.lifecycle import IssueLifecycle
from reputation.replies.owned import OwnedAccounts
from reputation.spread import cascades
from reputation.spread.prior import Prior
from reputation.store import Store, as_utc, upsert
from reputation.store.claims import claim_pending
from reputation.store.mentions import mark_enriched
from reputation.store.schema import authors, enrichments
from reputation.text.classifier import classifier_for
from reputation.text.embeddings import HashingEmbedder, make_embedder
from reputation.text.intent import Intent, detect_intent
from reputation.text.language import detect_language
from reputation.text.sentiment import Sentiment, SentimentAnalyzer

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
        # What predictions shrink toward: the store's prior, learned from its finished cascades once a day.
        self.prior: Prior | None = None
        self.prior_day: date | None = None
        self.analyzers = {brand.name: SentimentAnalyzer(overrides=brand.lexicon) for brand in config.brands}
        self.default_analyzer = SentimentAnalyzer()
        # Sentiment reads every post's embedding; issues get the same embedder instance, which
        # remembers the batch's vectors, so a complaint is embedded once for both.
        embedder = make_embedder(config.issues.embedder)
        self.issues = IssueLifecycle(config, embedder)
        self.owned = OwnedAccounts.from_config(config)
        self.classifier = classifier_for(embedder)
        # Only to clean texts the way the issue clusterer does (no brand names, products, handles, links).
        self._cleaner = IssueClusterer(
            [], ignore_words=self.issues.brand_words, embedder=HashingEmbedder(), products=self.issues.products
        )

    def run(self, store: Store, now: datetime, progress: Callable[[int], None] | None = None) -> EnrichReport:
        report = EnrichReport()
        while True:
            with store.transaction() as connection:
                # Claimed: a second worker skips (PostgreSQL) or waits for (SQLite) these rows. The claim
                # has no ORDER BY (a planner could walk all history for the few pending rows), so the
                # batch is put in time order here.
                found = claim_pending(connection, BATCH_SIZE)
                rows = sorted(found, key=lambda row: as_utc(row.created_at))
                if not rows:
                    return report
                self._enrich_batch(connection, rows, now, report)
            if progress:
                progress(len(rows))

    def _enrich_batch(self, connection: Connection, rows: Sequence[Any], now: datetime, report: EnrichReport) -> None:
        results = []
        complaints: list[Complaint] = []
        cascade_of = cascades.resolve_cascades(connection, rows)
        # The brand's own posts are its answers, never a complaint of an issue.
        owned = (
            set(connection.scalars(select(authors.c.key).where(self.owned.clause()))) if self.owned.brands else set()
        )
        # A batch repeats texts (retweets, copied complaints, bots): each distinct one is read once,
        # as it is embedded once; intent also depends on the sentiment and on being a review.
        intents: dict[tuple[str, Sentiment, bool], Intent] = {}
        languages: dict[str, str] = {}
        for row, sentiment in zip(rows, self._sentiments(rows), strict=True):
            reading = (row.text, sentiment, row.kind == "review")
            if reading not in intents:
                intents[reading] = detect_intent(row.text, sentiment, is_review=reading[2])
            intent = intents[reading]
            if not row.language and row.text not in languages:
                languages[row.text] = detect_language(row.text)
            cascade_key = cascade_of[row.key]
            results.append(
                {
                    "mention_key": row.key,
                    "language": row.language or languages[row.text],
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
            if sentiment.label == "negative" and row.kind != "reshare" and row.author_key not in owned:
                thread = cascade_key if cascade_key != row.key else None
                complaints.append(Complaint(row.key, row.brand, row.text, as_utc(row.created_at), thread))
        assigned = self.issues.assign(connection, complaints, now)
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
        if self.predict and self.prior_day != now.date():
            self.prior, self.prior_day = cascades.current_prior(connection, now), now.date()
        measured = cascades.refresh(connection, set(cascade_of.values()), now, self.predict, self.prior)
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
        cleaned = {text: self._cleaner.clean(text) for text in dict.fromkeys(row.text for row in rows)}
        vectors = self.classifier.embedder.embed([cleaned[row.text] for row in rows])
        found: list[Sentiment | None] = [None] * len(rows)
        for analyzer in {id(a): a for a in analyzers}.values():
            picked = [i for i, a in enumerate(analyzers) if a is analyzer]
            scored = self.classifier.score_many([rows[i].text for i in picked], analyzer, vectors[picked])
            for i, sentiment in zip(picked, scored, strict=True):
                found[i] = sentiment
        return [sentiment for sentiment in found if sentiment is not None]
