"""Canned replies: the brand's answers that it has sent nearly verbatim in other threads.

Replies are compared as sets of word pairs (2-shingles) after the parts a
template fills in are taken out (the @handle, the greeting's name, order
numbers, links, digits), so "Hi Dan, sorry for the delay... order VM-1" and "Hi
Maya, sorry for the delay... order VM-2" are the same text. Two replies are
near-duplicates when 60% of the shorter one's pairs are in the longer one
(containment, which tolerates a sentence added to a template) and neither is
twice as long. Pairs rather than triples: with one to three words of a
template changed, triples fell to 0.57 containment while distinct replies
stayed under 0.15 on pairs (evals.responses_eval).
Replies that are near-duplicates, directly or through others, form one
template; a reply is canned when its template was used in another thread.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

SHINGLE_WORDS = 2
MIN_WORDS = 6  # "Thanks!" twice is politeness, not a template
MIN_CONTAINMENT = 0.6
MIN_LENGTH_RATIO = 0.5

_URL = re.compile(r"https?://\S+|\b[\w.-]+\.(?:com|net|org|co\.uk|io)(?:/\S*)?", re.I)
_MENTION = re.compile(r"(?<![\w@])[@\uff20][\w.]+")
_GREETING = re.compile(r"^\s*(hi|hey|hello|dear|thanks|thank you)\s+[^\s,.!:;]+\s*[,.!:;-]", re.I)
_HAS_DIGIT = re.compile(r"\S*\d\S*")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Reply:
    key: str  # the reply's own id (platform:native_id, or the review's for an owner reply)
    thread: str  # the customer thread it answers
    text: str


@dataclass(frozen=True)
class Template:
    text: str  # the earliest reply of the group, as sent
    uses: int  # replies in the group
    threads: int  # distinct threads it was sent in


def normalize(text: str) -> list[str]:
    """The words a template shares: without handles, greeting names, links and anything with a digit."""
    text = _MENTION.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _GREETING.sub(r"\1 ,", text)
    text = _HAS_DIGIT.sub(" ", text)
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def shingles(words: Sequence[str]) -> frozenset[tuple[str, ...]]:
    size = min(SHINGLE_WORDS, len(words))
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1)) if words else frozenset()


def similar(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    if not a or not b:
        return False
    small, large = sorted((len(a), len(b)))
    if small / large < MIN_LENGTH_RATIO:
        return False
    return len(a & b) / small >= MIN_CONTAINMENT


def find_templates(replies: Sequence[Reply]) -> dict[str, Template]:
    """Reply key -> its template, for every reply whose template was used in more than one thread."""
    # Identical normalized texts are grouped first: a template used a thousand
    # times verbatim is one comparison, not a million.
    groups: dict[tuple[str, ...], list[Reply]] = {}
    for reply in replies:
        words = tuple(normalize(reply.text))
        if len(words) >= MIN_WORDS:
            groups.setdefault(words, []).append(reply)
    distinct = list(groups)
    sets = [shingles(words) for words in distinct]
    parent = list(range(len(distinct)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Candidates share at least one shingle; an inverted index keeps this far from all pairs.
    index: dict[tuple[str, ...], list[int]] = {}
    for i, shingle_set in enumerate(sets):
        seen: set[int] = set()
        for shingle in shingle_set:
            for j in index.get(shingle, ()):
                if j not in seen:
                    seen.add(j)
                    if find(i) != find(j) and similar(shingle_set, sets[j]):
                        parent[find(i)] = find(j)
            index.setdefault(shingle, []).append(i)
    members: dict[int, list[Reply]] = {}
    for i, words in enumerate(distinct):
        members.setdefault(find(i), []).extend(groups[words])
    found: dict[str, Template] = {}
    for group in members.values():
        threads = Counter(reply.thread for reply in group)
        if len(threads) < 2:
            continue
        template = Template(text=group[0].text, uses=len(group), threads=len(threads))
        found.update((reply.key, template) for reply in group)
    return found
