"""Which words English knows, and which of them name things: what an issue's label may be made of.

No tagger or parser is installable here, so word classes come from a table that spacy-lookups-data
already ships (nothing is downloaded): ``en_lemma_index``, WordNet 3.0's lemmas by part of speech
(WordNet licence, in that package), about 91,000 words in 10 MB once loaded.

- A word WordNet does not list at all is, inside a hashtag, a run of words ("destinationdragons",
  "unitedairlines"): it can stay in a post's vector but does not make a label.
- A word WordNet lists only as a verb ("arrive") or only as an adjective ("rude", "late") says what
  went wrong, not what it went wrong with, so it cannot stand for the thing complained about. Words
  WordNet does not list ("iphone", "wifi", "app", other languages) are left to the caller's other checks.

spaCy's word-probability table (``en_lexeme_prob``, 1M words) would also know names and slang, but loading
it cost 200 MB and 1.3 s per process, more than the hashtags it sorts are worth.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

# Words in -ing that name a part of a service a customer deals with, as CX teams name their topics ("Billing",
# "Shipping & Delivery"): the only -ing words that may name a thing. Every other one says what somebody was
# doing ("waiting", "calling", "being"), which WordNet also lists as a noun but no CX lead tracks.
SERVICE_AREAS = frozenset(
    """booking billing shipping boarding pricing tracking parking seating ticketing packaging banking streaming
    handling servicing hosting printing lighting plumbing wiring clothing
    bedding lodging catering financing funding marketing accounting staffing onboarding
    invoicing roaming tethering pairing buffering wording spelling formatting labelling
    shopping dining cleaning housekeeping""".split()
)

# Words WordNet 3.0 (2006) lists only as verbs that customers of apps and devices now write as things ("my
# downloads vanished", "the podcast won't play", "sync is broken"): a streaming app's support team tracks them as
# topics. Without this list "downloads" could never name an issue, because a verb says what went wrong, not with what.
# `_index` adds them to WordNet's nouns, so every check below reads them as nouns.
NEWER_NOUNS = frozenset("download upload podcast sync".split())


def service_area(verb: str) -> str | None:
    """The service area a verb's lemma is about ("book" -> "booking", "ship" -> "shipping"), or None."""
    for made in (verb + "ing", verb[:-1] + "ing", verb + verb[-1:] + "ing"):
        if made in SERVICE_AREAS:
            return made
    return None


@functools.cache
def _index() -> dict[str, frozenset[str]] | None:
    try:
        import spacy_lookups_data
    except ImportError:
        log.warning("spacy-lookups-data is not installed; labels are not checked against WordNet")
        return None
    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_index.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        index = {pos: frozenset(words) for pos, words in json.load(handle).items()}
    index["noun"] |= NEWER_NOUNS
    return index


def is_known(word: str) -> bool:
    """WordNet lists the word (any part of speech); True for everything when the table is missing."""
    index = _index()
    if index is None:
        return True
    word = word.lower()
    return any(word in words for words in index.values())


def names_no_thing(word: str) -> bool:
    """WordNet knows the word, and never as a noun: a verb or adjective only ("arrive", "rude")."""
    index = _index()
    if index is None:
        return False
    word = word.lower()
    return word not in index["noun"] and any(word in index[pos] for pos in ("verb", "adj", "adv"))


def is_noun(word: str) -> bool:
    """WordNet lists the word, as written, as a noun (or it is one of the NEWER_NOUNS)."""
    index = _index()
    return index is not None and word.lower() in index["noun"]


def noun_only(word: str) -> bool:
    """WordNet lists the word as a noun and never as a verb ("child", "datum"; not "take", "catch")."""
    index = _index()
    if index is None:
        return False
    word = word.lower()
    return word in index["noun"] and word not in index["verb"]


def noun_and_verb(word: str) -> bool:
    """WordNet lists the word, as written, both as a noun and as a verb ("number", "crew", "ground"): a word of
    its own, whatever a lemma table says it inflects."""
    index = _index()
    if index is None:
        return False
    word = word.lower()
    return word in index["noun"] and word in index["verb"]


def says_how(word: str) -> bool:
    """WordNet lists the word, as written, as an adjective: the state a thing is in ("bulging", "cracked",
    "missing", "late"), where the forms of plain actions are not ("bought", "returned", "estimated")."""
    index = _index()
    return index is not None and word.lower() in index["adj"]
