"""Keyword rules: the small boolean language brands are matched with.

    voltbook AND (battery OR hinge) NOT "voltbook arena"
    "volt mart" OR @voltmart OR volt*

Words match whole words, case-insensitively; `"..."` is an exact phrase; a
trailing `*` matches any word that starts with the stem; adjacent terms are
ANDed; NOT binds tighter than AND, AND tighter than OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))')
_OPERATORS = {"AND", "OR", "NOT"}

Matcher = Callable[[str], bool]


class RuleSyntaxError(ValueError):
    """A keyword rule that does not parse; the message names the position."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "phrase", "op", "(" or ")"
    value: str
    position: int


def _tokenize(rule: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(rule):
        if rule[position:].strip() == "":
            break
        match = _TOKEN.match(rule, position)
        if match is None:  # pragma: no cover - the pattern accepts any non-space
            raise RuleSyntaxError(f"unexpected character at position {position}")
        start = match.start(match.lastgroup or 0)
        if phrase := match.group("phrase"):
            if len(phrase) < 2 or not phrase.endswith('"'):
                raise RuleSyntaxError(f"unclosed quote at position {start}")
            if not phrase[1:-1].strip():
                raise RuleSyntaxError(f"empty phrase at position {start}")
            tokens.append(_Token("phrase", phrase[1:-1], start))
        elif paren := match.group("paren"):
            tokens.append(_Token(paren, paren, start))
        else:
            word = match.group("word")
            kind = "op" if word in _OPERATORS else "word"
            tokens.append(_Token(kind, word, start))
        position = match.end()
    return tokens


def _term_pattern(word: str) -> re.Pattern[str]:
    prefix = word.endswith("*") and len(word) > 1
    stem = re.escape(word.rstrip("*").lower())
    tail = r"\w*" if prefix else ""
    # Lookarounds instead of \b so that handles (@voltmart) and tags (#fail) match.
    return re.compile(rf"(?<![\w@#]){stem}{tail}(?!\w)")


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(part) for part in phrase.lower().split()]
    return re.compile(r"(?<![\w@#])" + r"\s+".join(words) + r"(?!\w)")


class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.tokens = _tokenize(rule)
        self.index = 0

    def parse(self) -> Matcher:
        if not self.tokens:
            raise RuleSyntaxError("the rule is empty")
        matcher = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise RuleSyntaxError(f"unexpected {token.value!r} at position {token.position}")
        return matcher

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _or(self) -> Matcher:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.value == "OR":
            self.index += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda text: any(part(text) for part in parts)

    def _and(self) -> Matcher:
        parts = [self._not()]
        while (token := self._peek()) is not None and token.value != "OR" and token.kind != ")":
            if token.value == "AND":
                self.index += 1
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]
        return lambda text: all(part(text) for part in parts)

    def _not(self) -> Matcher:
        token = self._peek()
        if token is not None and token.value == "NOT":
            self.index += 1
            inner = self._not()
            return lambda text: not inner(text)
        return self._atom()

    def _atom(self) -> Matcher:
        token = self._peek()
        if token is None:
            raise RuleSyntaxError("the rule ends where a term was expected")
        self.index += 1
        if token.kind == "(":
            inner = self._or()
            closing = self._peek()
            if closing is None or closing.kind != ")":
                raise RuleSyntaxError(f"unclosed parenthesis at position {token.position}")
            self.index += 1
            return inner
        if token.kind in ("phrase", "word"):
            pattern = _phrase_pattern(token.value) if token.kind == "phrase" else _term_pattern(token.value)
            return lambda text: pattern.search(text) is not None
        raise RuleSyntaxError(f"unexpected {token.value!r} at position {token.position}")


MAX_RULE_DEPTH = 32  # parentheses; deeper would exhaust the stack of the parser and the matcher


def compile_rule(rule: str) -> Matcher:
    """Compile a rule into a predicate over text (matched case-insensitively)."""
    depth = deepest = 0
    for char in rule:  # a bound before parsing: quotes may hold parentheses, which only over-count
        depth += (char == "(") - (char == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_RULE_DEPTH:
        raise RuleSyntaxError(f"parentheses nested deeper than {MAX_RULE_DEPTH} levels")
    matcher = _Parser(rule).parse()
    return lambda text: bool(matcher(text.lower()))


@dataclass(frozen=True)
class BrandMatcher:
    """Decides whether a text is about one brand."""

    brand: str
    includes: tuple[Matcher, ...]
    excludes: tuple[Matcher, ...]

    @classmethod
    def build(cls, brand: str, aliases: list[str], include: list[str], exclude: list[str]) -> BrandMatcher:
        alias_rules = [f'"{alias}"' for alias in [brand, *aliases] if alias.strip()]
        return cls(
            brand=brand,
            includes=tuple(compile_rule(rule) for rule in [*alias_rules, *include]),
            excludes=tuple(compile_rule(rule) for rule in exclude),
        )

    def matches(self, text: str) -> bool:
        return any(rule(text) for rule in self.includes) and not any(rule(text) for rule in self.excludes)


def subject_terms(rule: str) -> list[str]:
    """What each alternative of a rule is about: its first term, not negated, as written ("voltbook*").

    These are product and brand names, which must not decide or name a complaint's issue; the terms
    ANDed after them ("battery") often name the problem itself, so they are left alone.
    """
    subjects: list[str] = []
    expecting = True  # at the start of an alternative
    negated = False
    groups: list[bool] = []  # per open parenthesis: did it open where a subject was expected?
    for token in _tokenize(rule):
        if token.value == "OR":
            expecting = groups[-1] if groups else True
        elif token.value == "NOT":
            negated = True
        elif token.kind == "(":
            groups.append(expecting and not negated)
            negated = False
        elif token.kind == ")":
            if groups:
                groups.pop()
            expecting = False
        elif token.kind in ("word", "phrase"):
            if expecting and not negated:
                subjects.append(token.value)
            expecting = expecting and negated  # "NOT x y": y is still the subject
            negated = False
    return [term for term in subjects if term.strip("@#*")]
