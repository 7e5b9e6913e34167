"""Secrets out of text: the one redaction the core and the connectors share.

Client libraries sometimes echo a token in an error message; anything that may
reach a log, a report or the store passes through `redact` first.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_SECRET_CHARS = 4  # shorter values would blank out ordinary words


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret of `MIN_SECRET_CHARS` or more replaced by "[redacted]"."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, "[redacted]")
    return text
