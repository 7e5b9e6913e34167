"""Incremental clustering of complaints into issues.

Each issue keeps the mean of its members' unit embeddings (not re-normalised).
For unit vectors, the dot product of two such means is the average pairwise
cosine similarity of their members, which is exactly what average-linkage
agglomerative clustering compares. So one cycle does:

1. embed the new complaints only, cluster them by average linkage (distance
   threshold, no number of clusters) into micro-clusters, the things two
   complaints both name counting a little beside their embeddings
   (`linkage.with_shared_words`);
2. fold each micro-cluster into the live issue it is closest to when that
   similarity clears the same threshold, else open a new issue;
3. merge live issues that have grown within the threshold of each other (the
   smaller into the larger, recorded in `merges`).

Work per cycle follows the new complaints and the live issues, which the caller
keeps bounded (`MAX_LIVE_ISSUES`, fading after a quiet period). An issue's id
comes from the complaint that opened it, so re-runs give the same ids.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from reputation.issues import granularity
from reputation.issues.linkage import average_linkage, with_shared_words
from reputation.issues.naming import (
    MIN_SHARE,
    aspect_counts,
    domain_words,
    is_thing,
    name_issue,
    name_topics,
    tell_apart,
    things_named,
)
from reputation.issues.phrases import add_phrases, label_issues, phrase_key, phrases_of
from reputation.issues.topics import Member, Topic, group_topics
from reputation.issues.topics import resolve as resolve_topic
from reputation.text.embeddings import HANDLES_AND_LINKS, Embedder, Matrix, default_embedder

# Average-linkage similarity needed to join, until a brand has complaints enough to choose its own
# (`reputation.issues.granularity`); tuned per embedder on half of banking77 (`evals.issues_eval`).
JOIN_SIMILARITY = {"all-minilm-l6-v2": 0.55, "hashing-4096": 0.2}
MAX_LIVE_ISSUES = 2000  # per brand; the least recently seen beyond this stop being matched
# An issue quiet for this long is no longer matched; a new complaint opens a new one.
ISSUE_FADES_AFTER = timedelta(days=30)
EXAMPLES_KEPT = 3
_WORDS = re.compile(r"[a-z0-9']+")


def issue_id_for(brand: str | None, mention_key: str) -> str:
    digest = hashlib.sha1(f"{brand}|{mention_key}".encode()).hexdigest()[:10]
    return f"iss-{digest}"


def _forget_phrases(terms: Mapping[str, float], texts: Iterable[str], ignore: frozenset[str]) -> dict[str, float]:
    """An issue's phrase counts without those of `texts` (members that moved to another issue)."""
    by_key = {phrase_key(phrase): phrase for phrase in terms}
    left = dict(terms)
    for text in texts:
        for phrase in phrases_of(text, ignore):
            if (shown := by_key.get(phrase_key(phrase))) is not None:
                left[shown] -= 1.0
    return {phrase: count for phrase, count in left.items() if count > 0}


class _LiveCentres:
    """A brand's live issues during one cycle's clustering, with their centres as one matrix, grown in place."""

    def __init__(self, issues: list[Issue], dimension: int) -> None:
        self.issues = list(issues)
        self._row = {issue.id: row for row, issue in enumerate(self.issues)}
        self._centres = np.zeros((max(2 * len(self.issues), 64), dimension), dtype=np.float32)
        self._pool = np.full(len(self._centres), -np.inf)
        for row, issue in enumerate(self.issues):
            self._set(row, issue)

    def centres(self) -> Matrix:
        return self._centres[: len(self.issues)]

    def pool_only(self) -> npt.NDArray[np.float64]:
        """0 for an issue still in the unsorted pool, -inf for one out of it: added to similarities."""
        return self._pool[: len(self.issues)]

    def update(self, issue: Issue) -> None:
        """The issue grew, or opened this cycle."""
        row = self._row.get(issue.id)
        if row is None:
            row = self._row[issue.id] = len(self.issues)
            self.issues.append(issue)
            if row == len(self._centres):
                self._centres = np.concatenate([self._centres, np.zeros_like(self._centres)])
                self._pool = np.concatenate([self._pool, np.full(row, -np.inf)])
        self._set(row, issue)

    def _set(self, row: int, issue: Issue) -> None:
        if issue.centroid is not None:
            self._centres[row] = issue.centroid
        self._pool[row] = 0.0 if issue.unsorted else -np.inf


@dataclass(frozen=True)
class Complaint:
    mention_key: str
    brand: str | None
    text: str
    created_at: datetime
    thread: str | None = None  # the key of the post its conversation started from, for a reply or a quote


@dataclass(frozen=True)
class Merge:
    source: str
    target: str
    similarity: float
    at: datetime


@dataclass
class Issue:
    id: str
    brand: str | None
    label: str
    terms: dict[str, float]  # phrase -> number of member texts using it
    size: int
    created_at: datetime
    last_seen_at: datetime
    label_locked: bool = False
    centroid: Matrix | None = None  # mean of the members' unit vectors
    embedder: str = ""
    examples: list[str] = field(default_factory=list)
    merged_into: str | None = None
    reviewed_size: int = 0  # its size when last checked for a split (`reputation.issues.splits`)
    topic_id: str | None = None  # None while unsorted (fewer than granularity.MIN_GROUP posts)

    @property
    def unsorted(self) -> bool:
        """Too few alike to be an issue yet (unless a person named it)."""
        return self.size < granularity.MIN_GROUP and not self.label_locked

    def absorb(self, total: Matrix, count: int, seen_at: datetime) -> None:
        """Add `count` members whose vectors sum to `total`."""
        mean = self.centroid if self.centroid is not None else np.zeros_like(total)
        self.centroid = ((mean * self.size + total) / (self.size + count)).astype(np.float32)
        self.size += count
        self.last_seen_at = max(self.last_seen_at, seen_at)

    def admit(self, total: Matrix, count: int, seen_at: datetime, texts: Iterable[str], ignore: frozenset[str]) -> None:
        """Add `count` members whose vectors sum to `total` and whose cleaned texts are `texts`: mean and phrases."""
        self.absorb(total, count, seen_at)
        self.terms = add_phrases(self.terms, texts, ignore)

    def release(
        self, total: Matrix, count: int, texts: Iterable[str], originals: set[str], ignore: frozenset[str]
    ) -> bool:
        """Take out `count` members whose vectors sum to `total`, cleaned `texts` and posts `originals` (they
        moved to another issue); its older members stay. False when they were all it held: the caller drops it."""
        kept = self.size > count
        if self.centroid is not None and kept:
            self.centroid = ((self.centroid * self.size - total) / (self.size - count)).astype(np.float32)
            self.size -= count
        self.terms = _forget_phrases(self.terms, texts, ignore)
        self.examples = [text for text in self.examples if text not in originals]
        return kept


def _product_pattern(products: Iterable[str]) -> re.Pattern[str] | None:
    """Product names with the model words written after them: "Voltbook Pro 14", "voltbook x1 max"."""
    terms = []
    for product in products:
        stem = product.lower().strip().rstrip("*").strip("@#")
        if stem:
            tail = r"\w*" if product.strip().endswith("*") else ""
            terms.append(r"\s+".join(map(re.escape, stem.split())) + tail)
    if not terms:
        return None
    # A model word is a number ("14", "x1") or a short capitalised word ("Pro", "Max"); longer capitalised
    # words ("Battery") are left, since titles in title case would otherwise lose their problem.
    model = r"(?:\s+(?:[A-Za-z]*\d[\w-]*|[A-Z][A-Za-z]{0,4}\b(?!-)))"
    alternatives = "|".join(sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w@#])(?i:{alternatives})(?!\w){model}{{0,2}}")


class IssueClusterer:
    """Assigns complaints to issues. `issues` is the live set, loaded and saved by the caller."""

    def __init__(
        self,
        issues: Iterable[Issue],
        ignore_words: Iterable[str] = (),
        embedder: Embedder | None = None,
        join_similarity: float | None = None,
        products: Iterable[str] = (),
        topics: Iterable[Topic] = (),
        granularity_by_brand: dict[str | None, float] | None = None,
        known: Mapping[str | None, Sequence[tuple[str, Sequence[str]]]] | None = None,
    ) -> None:
        """`ignore_words` (brand names) and `products` (keyword terms, `*` for a stem) leave the texts first.

        `join_similarity` fixes the grain for every brand; otherwise each brand's is chosen from its
        complaints (kept in `granularity_by_brand`, which the caller stores).
        """
        self.embedder = embedder or default_embedder()
        self.join = join_similarity or JOIN_SIMILARITY.get(self.embedder.name, 0.5)
        self.adaptive = join_similarity is None and self.embedder.name in granularity.ADAPTIVE_EMBEDDERS
        self.granularity = dict(granularity_by_brand or {})
        self.issues = {issue.id: issue for issue in issues}
        self.topics = {topic.id: topic for topic in topics}
        self.topic_merges: list[tuple[str, str, float]] = []
        # Per brand, the CX lead's known issues: (issue id, the mean of its examples' vectors).
        self.known = {brand: list(issues_) for brand, issues_ in (known or {}).items()}
        self._anchors: dict[str | None, list[tuple[str, Matrix]]] = {}
        self.ignore: frozenset[str] = frozenset()
        self.label_ignore = frozenset(word for phrase in products for word in _WORDS.findall(phrase.lower()))
        self._ignore_pattern: re.Pattern[str] | None = None
        self.ignore_also(ignore_words)
        self._product_pattern = _product_pattern(products)
        self.touched: set[str] = set()
        self.merges: list[Merge] = []
        # The last batch's vectors by cleaned text, so a split check after it does not embed them again.
        self.batch_vectors: dict[str, Matrix] = {}

    def ignore_also(self, names: Iterable[str]) -> None:
        """More brand names to leave out of the texts from now on (`reputation analyze` meets them row by row)."""
        words = {word for phrase in names for word in _WORDS.findall(phrase.lower())} - self.ignore
        if not words:
            return
        self.ignore |= words
        self.label_ignore |= words
        alternatives = "|".join(sorted(map(re.escape, self.ignore), key=len, reverse=True))
        self._ignore_pattern = re.compile(r"\b(" + alternatives + r")\b", re.I)

    def clean(self, text: str) -> str:
        # Exports of posts (Kaggle's support tweets) keep the platform's HTML escaping: "&amp;" is "&", not "amp".
        text = html.unescape(text)
        # Brand names, handles and links must not decide which issue a complaint belongs to.
        text = HANDLES_AND_LINKS.sub(" ", text)
        # Nor must product names: "Voltbook Pro 14" would otherwise pull a battery fire and a
        # late refund into one issue because both posts name the laptop.
        if self._product_pattern is not None:
            text = self._product_pattern.sub(" ", text)
        if self._ignore_pattern is not None:
            text = self._ignore_pattern.sub(" ", text)
        return " ".join(text.split())

    def join_for(self, brand: str | None) -> float:
        return self.granularity.get(brand, self.join) if self.adaptive else self.join

    def live(self, brand: str | None) -> list[Issue]:
        return [
            issue
            for issue in self.issues.values()
            if issue.brand == brand
            and issue.merged_into is None
            and issue.embedder == self.embedder.name
            and issue.centroid is not None
        ]

    def resolve(self, issue_id: str) -> str:
        seen = set()
        while (issue := self.issues.get(issue_id)) is not None and issue.merged_into and issue_id not in seen:
            seen.add(issue_id)
            issue_id = str(issue.merged_into)
        return issue_id

    def assign(self, complaint: Complaint) -> str | None:
        return self.assign_all([complaint])[complaint.mention_key]

    def assign_all(
        self, complaints: Sequence[Complaint], thread_issues: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        """Each complaint's issue (None when its text has nothing to cluster). `thread_issues` gives the issue of
        thread-starting posts sorted in earlier cycles, so that their replies can follow them (`_follow_threads`).
        """
        ordered = sorted(complaints, key=lambda complaint: (complaint.created_at, complaint.mention_key))
        cleaned = [self.clean(complaint.text) for complaint in ordered]
        assigned: dict[str, str | None] = {complaint.mention_key: None for complaint in ordered}
        usable = [i for i, text in enumerate(cleaned) if re.search(r"[^\W\d_]{2}", text)]
        vectors = self.embedder.embed([cleaned[i] for i in usable]) if usable else None
        self.batch_vectors = {cleaned[i]: vectors[row] for row, i in enumerate(usable)} if vectors is not None else {}
        by_brand: dict[str | None, list[int]] = defaultdict(list)
        for row, i in enumerate(usable):
            by_brand[ordered[i].brand].append(row)
        for brand, rows in by_brand.items():
            assert vectors is not None
            matched = self._match_known(brand, [ordered[usable[r]] for r in rows], vectors[rows], rows, cleaned, usable)
            assigned.update(matched)
            rows = [r for r in rows if ordered[usable[r]].mention_key not in matched]
            if rows:
                brand_complaints = [ordered[usable[r]] for r in rows]
                assigned.update(self._cluster_brand(brand, brand_complaints, vectors[rows], cleaned, usable, rows))
        for key, found in assigned.items():
            if found is not None:
                assigned[key] = self.resolve(found)
        if vectors is not None:
            texts = [cleaned[i] for i in usable]
            self._follow_threads([ordered[i] for i in usable], vectors, texts, assigned, thread_issues or {})
        brands = {issue.brand for issue in (self.issues[i] for i in self.touched)}
        self.sort_into_topics(brands)
        self.relabel(brands)
        return assigned

    def _follow_threads(
        self,
        complaints: list[Complaint],
        vectors: Matrix,
        texts: list[str],
        assigned: dict[str, str | None],
        earlier: Mapping[str, str],
    ) -> None:
        """A reply joins the issue of the complaint its thread started from, when it is about the same thing.

        "same, mine swelled too and they refused the refund" under a swollen-battery post is that story, though
        on its own it sits between batteries and refunds. It follows when it is as close to that issue as a
        known issue's complaint must be (`ATTACH_MARGIN` below the join level). A reply that found no group of its
        own (still in the unsorted pool) follows a sorted thread however far its words are: under that post, "her
        Voltbook was ON FIRE", "report it to the CPSC" and "this should be a recall" are the story's, and alone
        they were three unsorted posts no CX lead would see beside it. A reply sorted into another issue ("still
        no refund after 19 days") stays there unless it is close.
        """
        for row, complaint in enumerate(complaints):
            start = assigned.get(complaint.thread or "") or earlier.get(complaint.thread or "")
            here = assigned.get(complaint.mention_key)
            if start is None or here is None or complaint.thread == complaint.mention_key:
                continue
            target, source = self.issues.get(self.resolve(start)), self.issues[here]
            if target is None or target is source or target.merged_into or target.centroid is None:
                continue
            close = float(vectors[row] @ target.centroid) >= self.join_for(complaint.brand) - granularity.ATTACH_MARGIN
            orphan = source.unsorted and not target.unsorted
            if source.label_locked or target.brand != complaint.brand or not (close or orphan):
                continue
            if source.release(vectors[row], 1, [texts[row]], {complaint.text}, self.label_ignore):
                self.touched.add(source.id)
            else:  # opened by this reply alone, this cycle: nobody has seen it
                del self.issues[source.id]
                self.touched.discard(source.id)
            target.admit(vectors[row], 1, complaint.created_at, [texts[row]], self.label_ignore)
            assigned[complaint.mention_key] = target.id
            self.touched.add(target.id)

    def _anchors_for(self, brand: str | None, at: datetime) -> list[tuple[str, Matrix]]:
        """The brand's known issues, opened on first use with the name as a locked label."""
        if brand not in self._anchors:
            anchors = []
            for name, examples in self.known.get(brand, []):
                anchor = self.embedder.embed([self.clean(e) for e in examples]).mean(axis=0).astype(np.float32)
                issue_id = self.resolve(issue_id_for(brand, f"known:{name}"))
                if issue_id not in self.issues:
                    self.issues[issue_id] = Issue(
                        issue_id,
                        brand,
                        name,
                        {},
                        0,
                        at,
                        at,
                        label_locked=True,
                        centroid=anchor,
                        embedder=self.embedder.name,
                    )
                    self.touched.add(issue_id)
                anchors.append((issue_id, anchor))
            self._anchors[brand] = anchors
        return self._anchors[brand]

    def _match_known(
        self,
        brand: str | None,
        complaints: list[Complaint],
        vectors: Matrix,
        rows: list[int],
        cleaned: list[str],
        usable: list[int],
    ) -> dict[str, str]:
        """Complaints close enough to a known issue's examples join it before discovery sees them."""
        if not self.known.get(brand):
            return {}
        anchors = self._anchors_for(brand, complaints[0].created_at)
        similarities = vectors @ np.stack([anchor for _, anchor in anchors]).T
        best = similarities.argmax(axis=1)
        # Examples are short and posts long, so the floor is the attach level, not the join level.
        floor = self.join_for(brand) - granularity.ATTACH_MARGIN
        matched: dict[str, str] = {}
        for column, (issue_id, _) in enumerate(anchors):
            members = [i for i in range(len(complaints)) if best[i] == column and similarities[i, column] >= floor]
            if not members:
                continue
            issue = self.issues[issue_id]
            latest = max(complaints[i].created_at for i in members)
            member_texts = (cleaned[usable[rows[i]]] for i in members)
            issue.admit(vectors[members].sum(axis=0), len(members), latest, member_texts, self.label_ignore)
            self.pick_examples(issue, [complaints[i].text for i in members], vectors[members])
            self.touched.add(issue_id)
            matched.update({complaints[i].mention_key: issue_id for i in members})
        return matched

    def _cluster_brand(
        self,
        brand: str | None,
        complaints: list[Complaint],
        vectors: Matrix,
        cleaned: list[str],
        usable: list[int],
        rows: list[int],
    ) -> dict[str, str]:
        texts = [cleaned[usable[r]] for r in rows]
        if self.adaptive and brand not in self.granularity and (chosen := granularity.choose_join(vectors)):
            self.granularity[brand] = chosen
        join = self.join_for(brand)
        # Complaints that name the same things are a little closer (`with_shared_words`); what joins an issue and
        # the issues' centres stay on the embeddings alone.
        labels = average_linkage(with_shared_words(vectors, [things_named(t, self.label_ignore) for t in texts]), join)
        groups: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            groups[int(label)].append(index)  # indexes are in time order, so groups[...][0] is the oldest
        assigned: dict[str, str] = {}
        new_members: dict[str, list[int]] = defaultdict(list)
        # The live issues' centres, kept up to date as groups join them: stacking them again for every group
        # made a long file's cost grow with its square.
        live = _LiveCentres(self.live(brand), vectors.shape[1])
        for group in sorted(groups.values(), key=lambda g: g[0]):
            total = vectors[group].sum(axis=0)
            mean = total / len(group)
            best: Issue | None = None
            if live.issues:
                similarities = live.centres() @ mean
                top = int(np.argmax(similarities))
                if similarities[top] >= join:
                    best = live.issues[top]
                elif len(group) < granularity.MIN_GROUP:
                    # Too few to open an issue: near enough an issue that exists, it is counted there.
                    sized = similarities + live.pool_only()
                    top = int(np.argmax(sized))
                    terms = add_phrases({}, (texts[i] for i in group), self.label_ignore)
                    target = live.issues[top]
                    best = target if self._may_attach(float(sized[top]), join, terms, target) else None
            if best is None:
                first = complaints[group[0]]
                best = Issue(
                    id=issue_id_for(brand, first.mention_key),
                    brand=brand,
                    label="",
                    terms={},
                    size=0,
                    created_at=first.created_at,
                    last_seen_at=first.created_at,
                    embedder=self.embedder.name,
                )
                self.issues[best.id] = best
            latest = max(complaints[i].created_at for i in group)
            best.admit(total.astype(np.float32), len(group), latest, (texts[i] for i in group), self.label_ignore)
            live.update(best)
            new_members[best.id].extend(group)
            self.touched.add(best.id)
            for i in group:
                assigned[complaints[i].mention_key] = best.id
        self._merge_close(brand, complaints[-1].created_at)
        self._sweep_pool(brand, complaints[-1].created_at)
        for issue_id, group in new_members.items():
            # Examples are the posts as written, brand name and all.
            originals = [complaints[i].text for i in group]
            self.pick_examples(self.issues[self.resolve(issue_id)], originals, vectors[group])
        return assigned

    def _merge_close(self, brand: str | None, now: datetime) -> None:
        """Merge live issues whose average-linkage similarity reached the threshold."""
        while True:
            live = [issue for issue in self.live(brand) if issue.centroid is not None]
            touched = [i for i, issue in enumerate(live) if issue.id in self.touched]
            if len(live) < 2 or not touched:
                return
            matrix = np.stack([issue.centroid for issue in live if issue.centroid is not None])
            similarities = matrix[touched] @ matrix.T
            for row, column in enumerate(touched):
                similarities[row, column] = -1.0
            row, column = divmod(int(np.argmax(similarities)), similarities.shape[1])
            if similarities[row, column] < self.join_for(brand):
                return
            a, b = live[touched[row]], live[column]
            # The larger (then the older) issue keeps its id: fewer texts change issue.
            target, source = sorted((a, b), key=lambda issue: (-issue.size, issue.created_at, issue.id))
            self.merge(source, target, float(similarities[row, column]), now)

    def _sweep_pool(self, brand: str | None, now: datetime) -> None:
        """Unsorted complaints that an issue has come close to join it (the issue may be new this cycle)."""
        live = self.live(brand)
        pool = [issue for issue in live if issue.unsorted]
        grown = [issue for issue in live if not issue.unsorted]
        if not pool or not grown:
            return
        similarities = (
            np.stack([i.centroid for i in pool if i.centroid is not None])
            @ np.stack([i.centroid for i in grown if i.centroid is not None]).T
        )
        join = self.join_for(brand)
        for row, source in enumerate(pool):
            column = int(np.argmax(similarities[row]))
            if self._may_attach(float(similarities[row, column]), join, source.terms, grown[column]):
                self.merge(source, grown[column], float(similarities[row, column]), now)

    @staticmethod
    def _may_attach(similarity: float, join: float, terms: Mapping[str, float], target: Issue) -> bool:
        """Whether one or two complaints (their phrase counts `terms`) join `target`, an issue `similarity` close:
        close enough on their own, or a little less close and naming a thing a fifth of its posts name."""
        if similarity >= join - granularity.STRAGGLER_MARGIN:
            return True
        if similarity < join - granularity.SHARED_THING_MARGIN:
            return False
        floor = max(1.0, MIN_SHARE * target.size)
        return any(target.terms.get(w, 0.0) >= floor for w in terms if " " not in w and is_thing(w))

    def sort_into_topics(self, brands: set[str | None]) -> None:
        """Every sorted issue into a topic; topic merges are kept in `topic_merges`."""
        for brand in brands:
            members = [
                Member(i.id, i.size, i.centroid, i.created_at, i.last_seen_at, i.topic_id)
                for i in self.live(brand)
                if not i.unsorted and i.centroid is not None and i.size > 0
            ]
            join = self.join_for(brand) - granularity.TOPIC_MARGIN
            chosen, merges = group_topics(brand, members, self.topics, join)
            self.topic_merges += merges
            for issue_id, topic_id in chosen.items():
                if self.issues[issue_id].topic_id != topic_id:
                    self.issues[issue_id].topic_id = topic_id
                    self.touched.add(issue_id)

    def merge(self, source: Issue, target: Issue, similarity: float, at: datetime) -> None:
        if source.centroid is not None:
            target.absorb(source.centroid * source.size, source.size, source.last_seen_at)
        for phrase, count in source.terms.items():
            target.terms[phrase] = target.terms.get(phrase, 0.0) + count
        target.terms = add_phrases(target.terms, (), self.label_ignore)
        target.examples = (target.examples + source.examples)[: EXAMPLES_KEPT * 2]
        target.created_at = min(target.created_at, source.created_at)
        source.merged_into = target.id
        self.touched.update({source.id, target.id})
        self.merges.append(Merge(source.id, target.id, similarity, at))

    def pick_examples(self, issue: Issue, texts: list[str], vectors: Matrix) -> None:
        """The most typical posts: closest to the issue's centre; old examples re-scored with the new members."""
        if issue.centroid is None:
            return
        # The new members' vectors are at hand; only the few kept examples are embedded again.
        old = [text for text in issue.examples if text not in set(texts)]
        old_vectors = self.embedder.embed([self.clean(text) for text in old]) if old else np.zeros((0, len(vectors[0])))
        scores = np.concatenate([old_vectors @ issue.centroid, vectors @ issue.centroid])
        ranked = sorted(zip(scores.tolist(), [*old, *texts], strict=True), key=lambda item: -item[0])
        issue.examples = list(dict.fromkeys(text for _, text in ranked))[:EXAMPLES_KEPT]

    def relabel(self, brands: set[str | None]) -> None:
        for brand in brands:
            live = self.live(brand)
            domain = domain_words((i.terms for i in live), sum(i.size for i in live))
            labels: dict[str, str] = {}
            # Issues are told apart from the brand's other issues, the unsorted pool from one another.
            for part in ([i for i in live if not i.unsorted], [i for i in live if i.unsorted]):
                profiles = {i.id: {p: c for p, c in i.terms.items() if p not in domain} or i.terms for i in part}
                labels |= label_issues(profiles, {i.id: i.size for i in part})
            # Larger issues name themselves first; a smaller one whose name is taken keeps the thing it names and
            # adds what sets it apart, so that two issues do not read alike.
            taken = {i.label for i in live if i.label_locked or i.id not in self.touched}
            for issue in sorted(live, key=lambda i: (-i.size, i.id)):
                if not issue.label_locked and issue.id in self.touched:
                    chosen = labels.get(issue.id) or issue.label or "unlabelled"
                    named = name_issue(chosen, issue.terms, issue.size, domain, self._central_phrases(issue))
                    if named in taken:
                        named = tell_apart(named, issue.terms, issue.size, taken, domain)
                    issue.label = named
                    taken.add(named)
            # Topics keep domain words: at their grain "account" or "credit" is the thing (CFPB's products).
            self._label_topics(brand, live, domain)

    def _central_phrases(self, issue: Issue) -> dict[str, float]:
        """The phrases of the issue's most typical post (its first example), each with its count in the issue."""
        if not issue.examples:
            return {}
        counts = {phrase_key(p): c for p, c in issue.terms.items()}
        found = phrases_of(self.clean(issue.examples[0]), self.label_ignore)
        return {p: counts.get(phrase_key(p), 1.0) for p in found}

    def _label_topics(self, brand: str | None, live: list[Issue], domain: frozenset[str]) -> None:
        """A topic's label: the phrase that tells it from the brand's other topics, over its issues' phrases."""
        profiles: dict[str, dict[str, float]] = defaultdict(dict)
        compounds: dict[str, dict[str, float]] = defaultdict(dict)
        sizes: dict[str, int] = defaultdict(int)
        things = {p for i in live for p in i.terms if " " not in p and is_thing(p)}
        for issue in live:
            topic_id = resolve_topic(self.topics, issue.topic_id)
            if topic_id in self.topics and not issue.unsorted:
                # A topic is named by a thing ("battery", "delivery"); what went wrong is its issues' part.
                for thing, count in aspect_counts(issue.terms, things).items():
                    profiles[topic_id][thing] = profiles[topic_id].get(thing, 0.0) + count
                for phrase, count in issue.terms.items():
                    if phrase.count(" ") == 1:
                        compounds[topic_id][phrase] = compounds[topic_id].get(phrase, 0.0) + count
                sizes[topic_id] += issue.size
        # A topic too small or too mixed for any thing to clear the floor keeps the distinctive phrase.
        labels = (label_issues(profiles, sizes) | name_topics(profiles, sizes, compounds, domain)) if profiles else {}
        for topic_id, label in labels.items():
            topic = self.topics[topic_id]
            if not topic.label_locked:
                topic.label = label
