"""Sentiment of customer posts: VADER, made right for complaints.

VADER (Hutto & Gilbert, ICWSM 2014) stays the scorer: it is fast, needs no model
download and handles negation, boosters, caps and punctuation. What it misses in
customer-care text is mostly multi-word: "still waiting", "charged twice", "never
again", "thanks for nothing". So before VADER sees a post we rewrite it: each
complaint cue becomes one synthetic token whose valence sits in this analyzer's
own copy of the lexicon. VADER then scores those tokens like any word, with its
own negation, caps and punctuation rules, and its compound stays on the same
-1..1 scale. The cue tables live in `reputation.text.complaint_lexicon`.

`raw_vader` is plain VADER at its usual +-0.05 thresholds, kept for comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reputation.text import complaint_lexicon as lex

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)

# VADER's rules rebuild the lowercased word list for every sentiment word, so its
# cost grows with the square of the length: 100,000 characters take ~20 s. A
# complaint states its point up front, and the compound saturates after a couple
# dozen sentiment words anyway, so the head of a long post decides its label.
MAX_CHARS = 2000

# VADER's published three-class cut-offs on the compound score.
VADER_THRESHOLD = 0.05
# A help-seeking question names topics ("dispute a charge", "gift card expiry")
# rather than feelings, so it needs clearer evidence before it counts as polar.
# Chosen on the dev split of tests/data/complaints_labeled.csv.
QUESTION_THRESHOLD = 0.5

# Confidence = sigmoid(a + b * |compound|), one pair for polar labels and one for
# neutral, fitted by logistic regression (reputation.text.sentiment_metrics.fit_logistic) on
# the dev split of tests/data/complaints_labeled.csv, target "label was right".
# tests/unit/test_sentiment.py refits them and fails if they drift.
POLAR_CALIBRATION = (1.5466, 4.1582)
NEUTRAL_CALIBRATION = (2.296, 7.1915)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]+")
_TOKEN = "zqx"  # prefix of synthetic tokens: never a real word, letters only


@dataclass(frozen=True)
class Sentiment:
    """A post's polarity: label, VADER-scale compound (-1..1) and a 0..1 confidence."""

    label: str
    compound: float
    confidence: float


@dataclass(frozen=True)
class LexiconSignals:
    """What the lexicon layer saw: its sentiment, whether the post is a plain question, cue counts."""

    sentiment: Sentiment
    is_question: bool
    negative_cues: int
    positive_cues: int


def _bounded(text: str) -> str:
    """The first MAX_CHARS characters, cut at a space, without control characters.

    Lone surrogates (broken upstream JSON) and control bytes (binary garbage) become
    spaces: they carry no sentiment and would only glue words together.
    """
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_CHARS:
        head = text[:MAX_CHARS]
        cut = head.rfind(" ")
        text = head[:cut] if cut > MAX_CHARS // 2 else head
    return _CONTROL.sub(" ", text)


def _label(compound: float, threshold: float) -> str:
    if compound > threshold:
        return POSITIVE
    if compound < -threshold:
        return NEGATIVE
    return NEUTRAL


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def _confidence(label: str, compound: float) -> float:
    intercept, slope = NEUTRAL_CALIBRATION if label == NEUTRAL else POLAR_CALIBRATION
    return round(_sigmoid(intercept + slope * abs(compound)), 4)


@lru_cache(maxsize=1)
def _plain_vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def raw_vader(text: str) -> Sentiment:
    """Plain VADER at +-0.05, on the same bounded, cleaned text, for comparison."""
    compound = float(_plain_vader().polarity_scores(_bounded(text))["compound"])
    label = _label(compound, VADER_THRESHOLD)
    return Sentiment(label, compound, _confidence(label, compound))


class _Rules:
    """A table of (pattern, valence) rules, rewritten left to right in one scan.

    Each rule's match becomes a synthetic token; `tokens` maps those tokens to
    their valence so the analyzer can add them to its lexicon. One alternation of
    a hundred rules tried at every word costs more than VADER itself, so rules are
    bucketed by the one or two characters a match must start with and only the
    bucket of each word's head is tried; the first rule in table order still wins.
    """

    def __init__(self, name: str, rules: Iterable[tuple[str, float]]) -> None:
        self.tokens: dict[str, float] = {}
        by_head: dict[str, list[int]] = {}
        unsure: list[int] = []
        patterns: list[str] = []
        self._token_of: list[str] = []
        for index, (pattern, valence) in enumerate(rules):
            token = f"{_TOKEN}{name}{_letters(index)}"
            self._token_of.append(token)
            patterns.append(pattern)
            if valence:
                self.tokens[token] = valence
            heads = _prefixes(pattern)
            if heads is None:
                unsure.append(index)
            for head in heads or ():
                by_head.setdefault(head, []).append(index)
        # A two-letter bucket also holds the rules keyed by its first letter alone.
        self._buckets = {
            head: _bucket(patterns, [*members, *(by_head.get(head[0], []) if len(head) == 2 else []), *unsure])
            for head, members in by_head.items()
        }
        # Words whose head starts no rule still get the rules we can't bucket.
        self._fallback = _bucket(patterns, unsure) if unsure else None

    def rewrite(self, text: str, hits: list[float] | None = None) -> str:
        pieces: list[str] = []
        done = 0
        for start in _WORD_START.finditer(text):
            position = start.start()
            if position < done:
                continue
            bucket = (
                self._buckets.get(text[position : position + 2].lower())
                or self._buckets.get(text[position].lower())
                or self._fallback
            )
            if bucket is None:
                continue
            match = bucket[0].match(text, position)
            if match is None:
                continue
            token = self._token_of[bucket[1][(match.lastindex or 1) - 1]]
            if hits is not None:
                hits.append(self.tokens.get(token, 0.0))
            # Keep VADER's caps emphasis: "NEVER AGAIN" shouts, "never again" doesn't.
            shouted = match.group().isupper()
            pieces += [text[done:position], " ", token.upper() if shouted else token, " "]
            done = match.end()
        pieces.append(text[done:])
        return "".join(pieces)


def _bucket(patterns: list[str], members: list[int]) -> tuple[re.Pattern[str], list[int]]:
    members = sorted(set(members))  # table order decides between rules
    alternation = "|".join(f"({patterns[index]})" for index in members)
    return re.compile(f"(?:{alternation})(?!\\w)", re.IGNORECASE), members


_WORD_START = re.compile(r"(?<![\w@#])\w")
_LITERAL = re.compile(r"[\w' /-]")
_QUANTIFIERS = ("?", "*", "{")


def _prefixes(pattern: str) -> set[str] | None:
    """Lowercased one- or two-character heads a match must start with; None when unsure."""
    heads: set[str] = set()
    for branch in _top_level_branches(pattern):
        if branch.startswith("(?:"):
            close = _closing_paren(branch)
            if branch[close + 1 : close + 2] in _QUANTIFIERS:
                return None  # an optional head: the match may start after it
            inner = _prefixes(branch[3:close])
        elif branch.startswith("\\d"):
            inner = set("0123456789")
        elif branch[:1] and _LITERAL.match(branch[0]) and branch[1:2] not in _QUANTIFIERS:
            two = branch[:2] if _LITERAL.match(branch[1:2] or "(") and branch[2:3] not in _QUANTIFIERS else ""
            inner = {(two or branch[0]).lower()}
        else:
            inner = None
        if inner is None:
            return None
        heads |= inner
    return heads


def _unescaped(pattern: str) -> Iterator[tuple[int, str, int]]:
    """Each character of a regex that a backslash does not escape, with the group depth just after it.

    The one scan behind both splitting a pattern at its top-level `|` and
    finding where its first group closes.
    """
    depth, index = 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2  # the escaped character is a literal, never a paren or a bar
            continue
        depth += (char == "(") - (char == ")")
        yield index, char, depth
        index += 1


def _top_level_branches(pattern: str) -> list[str]:
    branches, begin = [], 0
    for index, char, depth in _unescaped(pattern):
        if char == "|" and depth == 0:
            branches.append(pattern[begin:index])
            begin = index + 1
    return [*branches, pattern[begin:]]


def _closing_paren(pattern: str) -> int:
    for index, char, depth in _unescaped(pattern):
        if char == ")" and depth == 0:
            return index
    raise ValueError(f"unbalanced pattern: {pattern}")


def _letters(index: int) -> str:
    # Synthetic tokens must survive VADER's punctuation stripping: letters only.
    out = ""
    while True:
        index, rest = divmod(index, 26)
        out = chr(ord("a") + rest) + out
        if not index:
            return out


_CUES = _Rules("c", lex.COMPLAINT_PHRASES + lex.PRAISE_PHRASES + lex.DOMAIN_NEUTRAL)
_IN_COMPLAINT = _Rules("p", lex.POLITENESS_IN_COMPLAINT)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Up to four words between quote marks that open after a space and close before one.
_QUOTED = re.compile(r"(?<![\w:;=])['‘\"“](\w+(?:[ -]\S+){0,3})['’\"”](?!\w)")
_INTENSIFIER = re.compile(lex.INTENSIFIERS, re.IGNORECASE)
_DURATION = re.compile(lex.WAIT_DURATION, re.IGNORECASE)
_DURATION_HINT = re.compile(lex.WAIT_HINT, re.IGNORECASE)
_QUESTION = re.compile(lex.INFO_QUESTION, re.IGNORECASE)
_WORD = re.compile(r"[\w'-]+")
_NEGATIVE_WORDS = lex.COMPLAINT_WORDS | {word for word, valence in lex.WORDS.items() if valence < 0}
_EMOJI = re.compile("|".join(map(re.escape, lex.EMOJI)))
_EMOJI_TOKENS = {emoji: f"{_TOKEN}e{_letters(i)}" for i, emoji in enumerate(lex.EMOJI)}


def _has_complaint_word(text: str) -> bool:
    return any(word in _NEGATIVE_WORDS or word.startswith(lex.COMPLAINT_STEMS) for word in _WORD.findall(text.lower()))


def _wait_token(match: re.Match[str]) -> str:
    """A waiting time becomes a cue whose weight grows with the wait."""
    spoken = (match["amount"] or match["amount2"]).lower()
    amount = lex.NUMBER_WORDS.get(spoken)
    minutes = (float(spoken) if amount is None else amount) * lex.UNIT_MINUTES[
        (match["unit"] or match["unit2"]).lower()[:2]
    ]
    return next(token for limit, token in lex.WAIT_BUCKETS if minutes < limit)


class SentimentAnalyzer:
    """VADER with the complaint-domain layer and optional per-brand lexicon entries.

    `overrides` maps a word or short phrase (a brand or product name such as "Best
    Buy" or "Crash Bandicoot") to a valence on VADER's -4..4 scale; 0 neutralises it.
    """

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        self._vader = SentimentIntensityAnalyzer()
        lexicon = self._vader.lexicon
        for word in lex.NEUTRALISED_WORDS:
            lexicon.pop(word, None)
        lexicon.update(lex.WORDS)
        lexicon.update(_CUES.tokens)
        lexicon.update(_IN_COMPLAINT.tokens)
        lexicon.update(lex.WAIT_TOKENS)
        lexicon.update({token: lex.EMOJI[e] for e, token in _EMOJI_TOKENS.items()})
        self._brands: _Rules | None = None
        # Longest first, so "Best Buy Mobile" wins over "Best Buy"; a blank name
        # would match everywhere.
        overrides = overrides or {}
        names = sorted((name for name in overrides if name.strip()), key=len, reverse=True)
        if names:
            self._brands = _Rules("b", [(re.escape(name.strip()), overrides[name]) for name in names])
            lexicon.update(self._brands.tokens)

    def score(self, text: str) -> Sentiment:
        return self.signals(text).sentiment

    def signals(self, text: str) -> LexiconSignals:
        """The lexicon layer's verdict and the cues behind it, as the learned classifier reads them."""
        hits: list[float] = []
        prepared, is_question = self._prepare(_bounded(text), hits)
        compound = float(self._vader.polarity_scores(prepared)["compound"])
        threshold = QUESTION_THRESHOLD if is_question else VADER_THRESHOLD
        label = _label(compound, threshold)
        return LexiconSignals(
            Sentiment(label, compound, _confidence(label, compound)),
            is_question,
            sum(1 for hit in hits if hit < 0),
            sum(1 for hit in hits if hit > 0),
        )

    def score_many(self, texts: Iterable[str]) -> Iterator[Sentiment]:
        for text in texts:
            yield self.score(text)

    def _prepare(self, text: str, hits: list[float] | None = None) -> tuple[str, bool]:
        """The text as VADER should read it, and whether it is a plain question; cue valences go to `hits`."""
        text = _URL.sub(" ", text)
        # Split #CamelCase tags so "#TelvoFail" reads as "Telvo Fail"; before the
        # brand pass, so "#BestBuy" is neutralised like "Best Buy".
        text = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)
        # A handle is a name, not an opinion: "@united", "@BestBuySupport".
        text = _HANDLE.sub(" ", text)
        if self._brands is not None:
            text = self._brands.rewrite(text)
        if hits is None:
            hits = []

        def emoji(match: re.Match[str]) -> str:
            hits.append(lex.EMOJI[match.group()])
            return f" {_EMOJI_TOKENS[match.group()]} "

        def wait(match: re.Match[str]) -> str:
            token = _wait_token(match)
            hits.append(lex.WAIT_TOKENS.get(token, 0.0))
            return f" {token} "

        text = _EMOJI.sub(emoji, text)
        text = _INTENSIFIER.sub("very ", text)
        if _DURATION_HINT.search(text):
            text = _DURATION.sub(wait, text)
        text = _CUES.rewrite(text, hits)
        complaint = any(v < 0 for v in hits) or _has_complaint_word(text)
        if complaint:
            # Short quotes in a complaint are the company's words ("'unlimited'
            # plan", "'we are closed'"), not the author's feeling.
            text = _QUOTED.sub(self._quoted, text)
            if not any(v > 0 for v in hits):
                text = _IN_COMPLAINT.rewrite(text)
        is_question = not complaint and bool(_QUESTION.search(text))
        return text, is_question

    def _quoted(self, match: re.Match[str]) -> str:
        # Quoted praise in a complaint is scare quotes: "the 'express' delivery".
        inner = match.group(1).lower().split()
        ironic = any(self._vader.lexicon.get(word.strip(".,!?"), 0.0) > 0 for word in inner)
        return f" {lex.SCARE_QUOTE_TOKEN} " if ironic else " "
