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
_TOKEN = re.compile(r"[a-z][a-z']+|[.!?,;]")
# Handles, hashtags' marks and links name people and places, not problems.
_NOT_WORDS = re.compile(r"@\w+|https?://\S+|www\.\S+")
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
    reach = 0  # how many more tokens a preceding "not" still covers
    for raw in _TOKEN.findall(_NOT_WORDS.sub(" ", text.lower())):
        if raw in _NEGATORS:
            reach = 2
        elif raw in ".!?,;":
            reach = 0
        elif raw in _STOPWORDS or raw in ignore or len(raw) < 3:
            reach = max(reach - 1, 0)
        else:
            stem = _stem(raw)
            words.append(f"not {stem}" if reach else stem)
            reach = 0
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
    """A short phrase from the profile: a strong bigram, a negated verb, or the two strongest words."""
    ranked = [term for term, _ in sorted(terms.items(), key=lambda item: (-item[1], item[0]))]
    if not ranked:
        return "unlabelled"
    top_weight = terms[ranked[0]]
    for term in ranked[:5]:
        if " " in term and not term.startswith("not ") and terms[term] >= 0.6 * top_weight:
            return term
    for term in ranked[:3]:
        if term.startswith("not "):
            return term
    return " / ".join([term for term in ranked if " " not in term][:2]) or ranked[0]


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
