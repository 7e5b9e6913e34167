"""Place names in a post: they say where something went wrong, not what, so they never name an issue.

"orlando" and "miami" named groups of airline tweets whose posts were delays and lost bags at those places.
No tagger is installable here, so places come from a gazetteer that ships inside a package (nothing is
downloaded): airportsdata (MIT licence), whose 7,900 airports carry the city and region each serves, about
6,500 city names and 1,900 regions, which cover the places customers fly, ship and travel to.

A gazetteer alone would take words from customers ("mobile" is a city in Alabama, "delta" one in Utah,
"buffalo" one in New York), so a word counts as a place only where the post writes it as a name: capitalised
("Mobile", not "mobile"), and not as the first word of a sentence ("Mobile data is down"), where every word is
capitalised. Names of two or three words ("New York", "Punta Cana") count wherever they stand. The spaCy
extractor drops them from a post's phrases; the rule-based fallback reads lower-cased text and keeps them.

Airports' own names are not in it: taking the words of their names that English does not know ("Gatwick",
"Marco" of Marco Polo) named one group fewer on the airline tweets' held-out half ("flight > gatwick delayed"
became "flight direct") and cut names in two ("marco polo" -> "polo").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

_SENTENCE_END = frozenset(".!?:;\n")
_LONGEST = 3  # words in the longest name matched ("Rio de Janeiro")
_JOINERS = frozenset({"de", "del", "la", "le", "los", "las", "da", "do", "of", "upon"})  # "Rio de Janeiro"
_NOUNS_CAPITALISED = frozenset({"de", "lb"})  # German, Luxembourgish


@functools.cache
def _gazetteer() -> frozenset[str]:
    """Lower-case names of cities and regions, as written ("new york", "florida"), or nothing without the package."""
    try:
        import airportsdata
    except ImportError:
        log.warning("airportsdata is not installed; place names may name issues")
        return frozenset()
    names: set[str] = set()
    for airport in airportsdata.load("IATA").values():
        for field in ("city", "subd"):
            name = " ".join(str(airport.get(field) or "").lower().split())
            if name and len(name) > 2:
                names.add(name)
    return frozenset(names)


def _capitalised(word: str) -> bool:
    """Written as a name: "Orlando", "LaGuardia"; not "orlando", nor shouted ("ORLANDO", "JFK")."""
    return word[:1].isupper() and not word.isupper()


def place_words(words: Sequence[str], language: str = "en") -> set[int]:
    """The positions in `words` (a post's tokens, as written, punctuation included) that are part of a place name.
    None in a language that capitalises every noun (German "Hof", a yard, is also a city): there capitals do not
    tell a name."""
    places = _gazetteer()
    found: set[int] = set()
    if not places or language in _NOUNS_CAPITALISED:
        return found
    i = 0
    while i < len(words):
        if not _capitalised(words[i]):  # most words: no name starts here
            i += 1
            continue
        matched = 0
        for length in range(min(_LONGEST, len(words) - i), 0, -1):
            span = words[i : i + length]  # words[i] is capitalised; the rest must be, or join ("de")
            if not _capitalised(span[-1]) or any(not (_capitalised(w) or w.lower() in _JOINERS) for w in span):
                continue
            if " ".join(w.lower() for w in span) not in places:
                continue
            if length == 1 and (i == 0 or words[i - 1][-1:] in _SENTENCE_END):  # a sentence's first word
                continue
            matched = length
            break
        if matched:
            found.update(range(i, i + matched))
            i += matched
        else:
            i += 1
    return found
