"""Complaint issues: incremental clustering of negative mentions, with labels.

First version: each issue keeps a profile of weighted terms (words and
bigrams). A new complaint joins the issue whose profile is most similar (cosine)
above a threshold, or opens a new issue. Work per cycle depends on the new
complaints and the number of live issues, never on the history stored.
Issue ids derive from the complaint that opened them, so they are stable.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

PROFILE_TERMS = 40
JOIN_SIMILARITY = 0.22
_WORD = re.compile(r"[a-z][a-z']+")
_NEGATORS = {"not", "no", "never", "cant", "can't", "won't", "didn't", "doesn't", "don't", "isn't", "wasn't"}
_STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can could did do
    does doing for from get got had has have having he her here him his how i i'm i've if in into is it it's
    its just me more my myself now of off on once only or other our out over own same she should so some
    still such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who why will with would you your yours im ive id dont
    cant wont didnt doesnt isnt wasnt one two three even back really today yesterday day days week
    weeks time times thing things going went go said say says tell told ask asked guys anyone lol omg
    please thanks thank hi hey""".split()
)


def _stem(word: str) -> str:
    # Just enough folding that "refunds"/"refund" and "waiting"/"wait" meet.
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def terms_of(text: str, ignore: frozenset[str] = frozenset()) -> Counter[str]:
    """Words and adjacent-word bigrams, with negation kept ("not receiv")."""
    words: list[str] = []
    negate = False
    for raw in _WORD.findall(text.lower()):
        if raw in _NEGATORS:
            negate = True
            continue
        if raw in _STOPWORDS or raw in ignore or len(raw) < 3:
            continue
        stem = _stem(raw)
        words.append(f"not {stem}" if negate else stem)
        negate = False
    counts: Counter[str] = Counter(words)
    counts.update(f"{a} {b}" for a, b in pairwise(words) if a != b)
    return counts


def _normalise(counts: Counter[str] | dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return {term: value / norm for term, value in counts.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(value * b.get(term, 0.0) for term, value in a.items())


@dataclass
class Issue:
    id: str
    brand: str | None
    label: str
    terms: dict[str, float]
    size: int
    created_at: datetime
    last_seen_at: datetime
    label_locked: bool = False

    def absorb(self, vector: dict[str, float], seen_at: datetime) -> None:
        # Running mean of unit vectors, trimmed to the strongest terms so the
        # profile stays small however large the issue grows.
        merged = {
            term: (self.terms.get(term, 0.0) * self.size + vector.get(term, 0.0)) / (self.size + 1)
            for term in set(self.terms) | set(vector)
        }
        strongest = sorted(merged.items(), key=lambda item: item[1], reverse=True)[:PROFILE_TERMS]
        self.terms = _normalise(dict(strongest))
        self.size += 1
        self.last_seen_at = max(self.last_seen_at, seen_at)


def issue_id_for(brand: str | None, mention_key: str) -> str:
    digest = hashlib.sha1(f"{brand}|{mention_key}".encode()).hexdigest()[:10]
    return f"iss-{digest}"


def label_for(terms: dict[str, float]) -> str:
    """A short phrase from the profile: the strongest bigram, or the two strongest words."""
    ranked = sorted(terms.items(), key=lambda item: item[1], reverse=True)
    bigrams = [term for term, _ in ranked if " " in term and not term.startswith("not ")]
    negated = [term for term, _ in ranked if term.startswith("not ")]
    words = [term for term, _ in ranked if " " not in term]
    if negated and ranked and ranked[0][0] in negated[:1] + words[:3]:
        return negated[0]
    if bigrams and terms[bigrams[0]] >= 0.5 * ranked[0][1]:
        return bigrams[0]
    return " / ".join(words[:2]) or "unlabelled"


@dataclass(frozen=True)
class Complaint:
    mention_key: str
    brand: str | None
    text: str
    created_at: datetime


class IssueClusterer:
    """Assigns complaints to issues; `issues` is the live set, loaded and saved by the caller."""

    def __init__(self, issues: Iterable[Issue], ignore_words: Iterable[str] = ()) -> None:
        self.issues = {issue.id: issue for issue in issues}
        self.ignore = frozenset(word.lower() for phrase in ignore_words for word in _WORD.findall(phrase.lower()))
        self.touched: set[str] = set()

    def assign(self, complaint: Complaint) -> str | None:
        vector = _normalise(terms_of(complaint.text, self.ignore))
        if not vector:
            return None
        best: Issue | None = None
        best_similarity = JOIN_SIMILARITY
        for issue in self.issues.values():
            if issue.brand != complaint.brand:
                continue
            similarity = cosine(vector, issue.terms)
            if similarity >= best_similarity:
                best, best_similarity = issue, similarity
        if best is None:
            best = Issue(
                id=issue_id_for(complaint.brand, complaint.mention_key),
                brand=complaint.brand,
                label="",
                terms={},
                size=0,
                created_at=complaint.created_at,
                last_seen_at=complaint.created_at,
            )
            self.issues[best.id] = best
        best.absorb(vector, complaint.created_at)
        if not best.label_locked:
            best.label = label_for(best.terms)
        self.touched.add(best.id)
        return best.id

    def assign_all(self, complaints: Sequence[Complaint]) -> dict[str, str | None]:
        ordered = sorted(complaints, key=lambda complaint: complaint.created_at)
        return {complaint.mention_key: self.assign(complaint) for complaint in ordered}
