"""Asked again: the brand asks for something the customer already gave in the thread.

Each kind of thing (an order number, a direct message, a photo, a receipt, a
call, an email) has two sides: how the brand asks for it ("please DM us your
order number") and how a customer shows she already gave it ("order
VM-88213460", "DM sent. again.", "I have the receipt", "called twice"). A reply
asks again when it asks for a kind that the customer's earlier posts in the
thread already gave. Patterns are English; other languages are never flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_REQUEST = re.compile(
    r"\b(please|pls|could you|can you|would you|kindly|send|share|provide|give us|let us (?:know|have)|"
    r"dm us|message us|drop us|pop us|reach out|get in touch|contact|call us|email us|attach|upload|"
    r"follow us|we(?:'ll| will) need|we need|need your|include|mind)\b|\?",  # a question asks too
    re.I,
)

# What the brand asks for, in a sentence that asks.
_ASKS: dict[str, re.Pattern[str]] = {
    "order number": re.compile(
        r"\b(order|booking|reference|confirmation|tracking|account|case|ticket)\s*(number|no\b|#|id\b|details|"
        r"info|reference|ref\b)",
        re.I,
    ),
    # A DM to the brand; "check your DMs" points at one the brand sent and asks for nothing.
    "a DM": re.compile(
        r"\b(dm|pm|message|direct message|private message) (us|me)\b|\b(please|kindly|pls) dm\b|\bdm (your|the)\b|"
        r"\b(send|sending|drop|shoot|pop)( us)? an? (dm|pm|direct message|private message)\b|"
        r"\bus an? (dm|pm|direct message|private message|private|message)\b|"
        r"\b(via|by|in|over|through) (an? )?(dm|dms|pm|direct message|private message)\b|"
        r"\bfollow (us )?and dm\b|\bdm with\b",
        re.I,
    ),
    "a photo": re.compile(r"\b(photo|photos|picture|pictures|pic|pics|image|images|screenshot|screenshots)\b", re.I),
    "the receipt": re.compile(r"\b(receipt|receipts|proof of purchase|invoice)\b", re.I),
    "a call": re.compile(
        r"\b(call us|phone us|call our|ring us|contact (?:our|the) \w+ (?:team|line))\b|"
        r"\bgive (?:us|our [\w ]{1,40}?) an? (?:call|ring)\b",
        re.I,
    ),
    # Asking for her address is not asking her to write again.
    "an email": re.compile(r"\b(email us|e-mail us|send (?:us )?an email|drop us an email)\b", re.I),
}

# "#48213377", "VM-88213460", "NW88123X", "7731229": digits, or letters with at least four digits.
_ORDER_ID = (
    r"(?:#\s?\d{4,}|\b(?=[a-z-]*\d)(?=\d*[a-z-])[a-z0-9]+(?:-[a-z0-9]+)+\b|\b[a-z]{0,4}\d{4,}[a-z]{0,2}\b|\b\d{6,}\b"
    r"|\b(?=(?:[a-z]*\d){3})[a-z0-9]{6,}\b)"  # mixed, like A1B2C3D4
)
# How a customer shows she already gave it.
_GAVE: dict[str, re.Pattern[str]] = {
    "order number": re.compile(
        r"\b(order|booking|reference|ref|confirmation|case|ticket|tracking)\s*(number|no\.?|#|id)?\s*(is|:|=)?\s*"
        + _ORDER_ID
        + r"|\b(sent|gave|given|provided|shared|dm'?e?d|messaged)\b[^.!?]{0,30}"
        r"\b(order|reference|case)\s*(number|no|#|id|details)",
        re.I,
    ),
    "a DM": re.compile(
        r"\b(dm'?e?d|dm sent|sent (?:you )?(?:a |the |my )?(?:dm|direct message|message)|messaged you|"
        r"in (?:your|the) dms?|check (?:your )?dms?|already (?:dm|message)\w*|"
        r"dms? (?:you )?(?:twice|again|three times))\b",
        re.I,
    ),
    "a photo": re.compile(
        r"\b(attached|sent|posted|here(?:'s| is| are)|uploaded|shared|took)\b[^.!?]{0,30}"
        r"\b(photo|photos|picture|pictures|pic|pics|screenshot|screenshots|image|images)\b|"
        r"\b(photo|photos|picture|pictures|pics|screenshots?|images?)\b[^.!?]{0,15}\b(attached|above|below|sent)\b",
        re.I,
    ),
    "the receipt": re.compile(
        r"\b(have|has|got|kept|attached|sent|showed|shown|uploaded|with|here(?:'s| is)|posted|shared|provided|gave)\b"
        r"[^.!?]{0,20}\b(receipt|proof of purchase|invoice)\b|"
        r"\b(receipt|invoice)\b[^.!?]{0,15}\b(attached|above|sent)\b",
        re.I,
    ),
    "a call": re.compile(
        r"\b(called|rang|phoned|calling|been on hold|on hold|spoke to|spoken to|talked to|hung up)\b|"
        r"\b(two|three|four|five|several|many|multiple|countless|\d+) (?:phone )?calls\b",
        re.I,
    ),
    "an email": re.compile(r"\b(emailed|e-mailed|sent (?:you |an |several |two |three )*e-?mails?)\b", re.I),
}

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def requested(reply: str) -> set[str]:
    """What a brand reply asks the customer for."""
    asked: set[str] = set()
    for sentence in _SENTENCE.findall(reply):
        if not _REQUEST.search(sentence):
            continue
        asked.update(kind for kind, pattern in _ASKS.items() if pattern.search(sentence))
    return asked


def given(posts: Sequence[str]) -> set[str]:
    """What a customer's posts show she already gave or did."""
    return {kind for kind, pattern in _GAVE.items() if any(pattern.search(post) for post in posts)}


def asked_again(reply: str, earlier_customer_posts: Sequence[str]) -> list[str]:
    """The things the reply asks for that the customer had already given; empty when none."""
    return sorted(requested(reply) & given(earlier_customer_posts))
