"""The brand a file of posts addresses, by name: what must neither decide nor name an issue.

Customers tag the brand's handle ("@united", "@SpotifyCares", "@AmericanAir") and also write its name
("United lost my bag", "Spotify keeps crashing"). Handles are already left out of a post's text; the name
written out was not, so where no brand was configured (`reputation analyze` on a file without a brand column)
labels read "flight united", "bag united" and "delay united" on the Twitter US Airline Sentiment tweets.

A handle tagged by many rows of such a file is the brand's: the brand's words are that handle and the words
the posts write that it begins with ("southwest" for @SouthwestAir, "spotify" for @SpotifyCares). The
pipeline does not guess: its brands and their names come from the configuration, and in a live stream the
replies to a viral post all tag its author, whose handle ("@battery_guy") would take "battery" with it.

Measured with `python -m evals.topics_eval` on the Twitter US Airline Sentiment complaint reasons (handles
@united, @SouthwestAir, @AmericanAir, @USAirways, @JetBlue, @VirginAmerica): no label names an airline any
more (12 did, "flight united" for 105 posts among them); the named share moved 0.24 -> 0.22 and NMI 0.229 ->
0.228 as groups re-formed without the names (at ADDRESSED_SHARE 1%; README.md has the figures at 5%).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from reputation.text.embeddings import HANDLES_AND_LINKS

_HANDLE = re.compile(r"@(\w{2,})")
_NAME = re.compile(r"[a-z0-9_']+")
_WORD = re.compile(r"[a-z][a-z0-9']+")
# A handle tagged by at least this share of the posts (and by MIN_POSTS of them) is a brand's. At 1%, a customer
# three replies tagged in 250 tweets of the airline set ("@zkatcher") passed for one.
ADDRESSED_SHARE = 0.05
MIN_POSTS = 3
# Shorter words begin too many handles by chance ("air" for @AirAsia, "ups" for @UPSHelp).
MIN_LENGTH = 4


def addressed_names(texts: Sequence[str]) -> set[str]:
    """The brand names among `texts`: handles tagged by many of them, and the words those handles begin with."""
    tagged = Counter(handle for text in texts for handle in {h.lower() for h in _HANDLE.findall(text)})
    floor = max(MIN_POSTS, ADDRESSED_SHARE * len(texts))
    # Anonymized handles (the Kaggle support tweets turn customers into numbers) name nobody.
    handles = {handle for handle, count in tagged.items() if count >= floor and not handle.isdigit()}
    return brand_words(handles, texts) if handles else set()


def brand_words(names: Iterable[str], texts: Sequence[str]) -> set[str]:
    """The words of `names`, and the words `texts` write that one of them begins with: a brand column holding
    the support handle ("AppleSupport") leaves "apple" out of "my Apple Watch won't pair"."""
    whole = {word for name in names for word in _NAME.findall(name.lower())}
    if not whole:
        return set()
    written = {word for text in texts for word in _WORD.findall(HANDLES_AND_LINKS.sub(" ", text.lower()))}
    return whole | {w for w in written if len(w) >= MIN_LENGTH and any(n.startswith(w) for n in whole)}
