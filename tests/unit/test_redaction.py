"""One scrub for the whole project: every form a secret may be echoed in is hidden."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from connectors.errors import scrub as connectors_scrub
from reputation.redaction import scrub

WEBHOOK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/x9SecretPathToken42"


def test_connectors_and_the_core_share_it() -> None:
    assert connectors_scrub is scrub


def test_a_webhook_url_is_hidden_whole_or_in_parts() -> None:
    for echoed in (
        WEBHOOK,
        "/services/T0AAAAAAA/B0BBBBBBB/x9SecretPathToken42",
        "services/T0AAAAAAA/B0BBBBBBB/x9SecretPathToken42",
        "no_service: x9SecretPathToken42",
        quote(WEBHOOK, safe=""),
    ):
        said = scrub(f"HTTP 404: {echoed} not found", [WEBHOOK])
        assert "x9SecretPathToken42" not in said and "[redacted]" in said


def test_userinfo_password_and_query_token_are_hidden() -> None:
    url = "postgresql://app:pa%2Fss@db.internal:5432/rep?sslkey=k3y-file-secret"
    said = scrub(f"could not connect: {url} (password pa/ss, key k3y-file-secret)", [url])
    assert "pa/ss" not in said and "pa%2Fss" not in said and "k3y-file-secret" not in said


@given(secret=st.text(min_size=4, max_size=40), before=st.text(max_size=20), after=st.text(max_size=20))
def test_any_secret_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in scrub(before + secret + after, [secret])


def test_short_strings_are_not_secrets() -> None:
    assert scrub("a b c", ["a", ""]) == "a b c"
