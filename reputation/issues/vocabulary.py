"""Which words English knows, and which of them name things: what an issue's label may be made of.

No tagger or parser is installable here, so word classes come from two tables that spacy-lookups-data
already ships (nothing is downloaded):

- ``en_lexeme_prob``: spaCy's log-probability of each word in a large web corpus. A word missing from it,
  or rarer than KNOWN_LOG_PROB, is a hashtag run together ("destinationdragons", "unitedairlines"), an
  airport code or a typo: it can stay in a post's vector but does not make a label.
- ``en_lemma_index``: WordNet 3.0's lemmas by part of speech (WordNet licence, in that package). A word
  WordNet lists only as a verb ("arrive") or only as an adjective ("rude", "late") says what went
  wrong, not what it went wrong with, so it cannot stand for the thing complained about. Words WordNet
  does not list at all ("iphone", "wifi", "app") are left to the caller's other checks.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

# Rarer than this in spaCy's table: about one word in 25 million. "fleek" (-16.5) and "jfk" (-16.5)
# pass, "dreamliner" (-18.8) and the hashtag runs (absent) do not.
KNOWN_LOG_PROB = -17.0


@functools.cache
def _tables() -> tuple[dict[str, float], dict[str, frozenset[str]]] | None:
    try:
        import spacy_lookups_data
    except ImportError:
        log.warning("spacy-lookups-data is not installed; labels are not checked against an English word list")
        return None
    folder = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(folder / "en_lexeme_prob.json.gz", "rt", encoding="utf-8") as handle:
        probabilities: dict[str, float] = json.load(handle)
    with gzip.open(folder / "en_lemma_index.json.gz", "rt", encoding="utf-8") as handle:
        index = {pos: frozenset(words) for pos, words in json.load(handle).items()}
    return probabilities, index


def is_known(word: str) -> bool:
    """An English word (or a name common enough to be one); True for everything when the table is missing."""
    tables = _tables()
    if tables is None:
        return True
    return tables[0].get(word.lower(), -100.0) >= KNOWN_LOG_PROB


def names_no_thing(word: str) -> bool:
    """WordNet knows the word, and never as a noun: a verb or adjective only ("arrive", "rude")."""
    tables = _tables()
    if tables is None:
        return False
    index = tables[1]
    word = word.lower()
    return word not in index["noun"] and any(word in index[pos] for pos in ("verb", "adj", "adv"))


def noun_only(word: str) -> bool:
    """WordNet lists the word as a noun and never as a verb ("child", "datum"; not "take", "catch")."""
    tables = _tables()
    if tables is None:
        return False
    index = tables[1]
    word = word.lower()
    return word in index["noun"] and word not in index["verb"]
