"""Label phrases for issues, without a parser.

No spaCy English model is installable here (none is published on PyPI), so a
small rule-based extractor stands in: negated verb phrases ("not received",
"can't log in"), noun-like bigrams ("exchange rate", "card payment") and single
content words, lemmatised with a few suffix rules. Issues are labelled with the
phrase that is frequent in the issue and rare in the brand's other issues
(class-based TF-IDF, as in BERTopic).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

PHRASES_KEPT = 60  # per issue; enough to label it, small enough to store
_TOKEN = re.compile(r"[a-z][a-z']*|[.!?,;:]")
_NOISE = re.compile(r"@\w+|#|https?://\S+|www\.\S+")
_NEGATORS = {
    "not": "not",
    "no": "no",
    "never": "never",
    "cant": "can't",
    "can't": "can't",
    "cannot": "can't",
    "won't": "won't",
    "wont": "won't",
    "didn't": "didn't",
    "didnt": "didn't",
    "doesn't": "doesn't",
    "doesnt": "doesn't",
    "don't": "don't",
    "dont": "don't",
    "isn't": "not",
    "wasn't": "not",
    "haven't": "not",
    "hasn't": "not",
    "havent": "not",
    "hasnt": "not",
    "aren't": "not",
    "couldn't": "can't",
}
_AUX = {"be", "been", "being", "get", "got", "yet", "even", "ever", "able", "to", "i", "we", "it", "my", "still"}
_PARTICLES = {"in", "out", "up", "on", "off", "back", "through", "down"}
_STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can could did do
    does doing for from get got had has have having he her here him his how i i'm i've if in into is it it's
    its just me more my myself now of off on once only or other our out over own same she should so some
    still such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who why will with would you your yours im ive id
    one two three even back really today yesterday day days week weeks time times thing things going went
    go said say says tell told ask asked guys anyone lol omg please thanks thank hi hey help need want
    know like way make sure much many since ago why yet ok okay well got getting""".split()
)


def lemma(word: str) -> str:
    """Plural nouns to singular; enough that "refunds" and "refund" meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word.removesuffix("'s")


def phrases_of(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """The candidate label phrases one text offers (each counted once per text)."""
    tokens = _TOKEN.findall(_NOISE.sub(" ", text.lower()))
    found: set[str] = set()
    content: list[str | None] = []  # None breaks a bigram
    for i, token in enumerate(tokens):
        if token in _NEGATORS:
            phrase = _negated(tokens, i + 1, ignore)
            if phrase:
                found.add(f"{_NEGATORS[token]} {phrase}")
            content.append(None)
        elif token in ignore or token in _STOPWORDS or len(token) < 3 or not token[0].isalpha():
            content.append(None)
        else:
            word = lemma(token)
            found.add(word)
            content.append(word)
    for a, b in itertools.pairwise(content):
        if a and b and a != b:
            found.add(f"{a} {b}")
    return found


def _negated(tokens: list[str], start: int, ignore: frozenset[str]) -> str:
    """The verb (with its particle) a negator governs: "not [been] received", "can't log in"."""
    i = start
    while i < len(tokens) and tokens[i] in _AUX and i - start < 3:
        i += 1
    if i >= len(tokens) or not tokens[i][0].isalpha() or tokens[i] in _STOPWORDS or tokens[i] in ignore:
        return ""
    verb = tokens[i]
    if i + 1 < len(tokens) and tokens[i + 1] in _PARTICLES:
        return f"{verb} {tokens[i + 1]}"
    return verb


def add_phrases(counts: dict[str, float], texts: Iterable[str], ignore: frozenset[str]) -> dict[str, float]:
    """Fold the texts' phrases into an issue's document counts, keeping the strongest."""
    merged: Counter[str] = Counter(counts)
    for text in texts:
        merged.update(phrases_of(text, ignore))
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:PHRASES_KEPT])


def label_issues(profiles: Mapping[str, Mapping[str, float]], sizes: Mapping[str, int]) -> dict[str, str]:
    """Class-based TF-IDF over the issues given: the best phrase of each, longer phrases preferred."""
    spread: Counter[str] = Counter()
    for counts in profiles.values():
        spread.update(counts)
    n_issues = max(len(profiles), 1)
    labels: dict[str, str] = {}
    for issue_id, counts in profiles.items():
        size = max(sizes.get(issue_id, 1), 1)
        best, best_score = "", -1.0
        for phrase, count in counts.items():
            share = count / size
            if share < 0.15 and count < 3:
                continue
            words = phrase.count(" ") + 1
            # Phrases are more readable than words; negations name the problem itself.
            bonus = 1.0 + 0.5 * min(words - 1, 2) + (0.3 if phrase.split()[0] in _NEGATOR_FORMS else 0.0)
            score = share * math.log(1.0 + n_issues * count / spread[phrase]) * bonus
            if score > best_score or (score == best_score and phrase < best):
                best, best_score = phrase, score
        labels[issue_id] = best or _fallback(counts)
    return labels


_NEGATOR_FORMS = frozenset(_NEGATORS.values())


def _fallback(counts: Mapping[str, float]) -> str:
    return max(counts, key=lambda phrase: (counts[phrase], phrase)) if counts else "unlabelled"
