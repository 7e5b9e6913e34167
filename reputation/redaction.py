"""Secrets out of every message: the one scrub the whole project uses.

Imports nothing of the core, so connectors, alerts and the pipeline can all
use it. A secret is replaced in each form an error body may echo it in: as
given, URL-encoded, and, for a URL (a Slack incoming webhook is one whose path
is the credential), its path, its last path segment, its query and each of
its values, and the password in its userinfo (encoded or not).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4  # shorter strings would blank out ordinary words


def _url_parts(secret: str) -> list[str]:
    try:
        parts = urlsplit(secret)
        password = parts.password
    except ValueError:
        return []
    if not (parts.scheme and parts.netloc):
        return []
    found = [parts.netloc + parts.path, parts.query, password or "", unquote(password or "")]
    found += [value for _, value in parse_qsl(parts.query)]
    path = parts.path.strip("/")
    if path:
        found += [parts.path, path, path.rsplit("/", 1)[-1]]
    return found


def secret_forms(secret: str) -> list[str]:
    """Every string that gives `secret` away, longest first so a longer form is replaced whole."""
    forms = {secret, quote(secret, safe=""), unquote(secret)}
    for form in list(forms):
        forms.update(_url_parts(form))
    return sorted((form for form in forms if len(form) >= MIN_SECRET_CHARS), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Defence in depth: a client library's or endpoint's message must never carry a credential out."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_CHARS:
            for form in secret_forms(secret):
                text = text.replace(form, REDACTED)
    return text
