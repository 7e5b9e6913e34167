"""The Google Play connector: the contract suite, then what is particular to Google Play."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.auth import jwt
from typer.testing import CliRunner

from connectors.errors import AuthenticationFailed, ConnectorError, RateLimited, Transient
from connectors.googleplay import GooglePlayConnector
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import Kind, Mention
from tests.fakes.googleplay import PACKAGE, SCOPE, FakeGooglePlay, rsa_key

VARIABLE = "GOOGLE_PLAY_SERVICE_ACCOUNT_JSON"


class TestGooglePlayContract(ConnectorContract, connector=GooglePlayConnector, fake=FakeGooglePlay, query=PACKAGE): ...


@pytest.fixture
def fake() -> Iterator[FakeGooglePlay]:
    with FakeGooglePlay() as running:
        yield running


def connector(
    fake: FakeGooglePlay, *, env: dict[str, str] | None = None, retry: RetryPolicy | None = None, **options: Any
) -> GooglePlayConnector:
    settings = SourceSettings(
        name="play", query=PACKAGE, base_url=fake.url, options=options, env=fake.env if env is None else env
    )
    return GooglePlayConnector(settings, retry=retry or RetryPolicy(max_attempts=1))


def fetch(
    fake: FakeGooglePlay, state: dict[str, Any] | None = None, **options: Any
) -> tuple[list[Mention], list[str], dict[str, Any]]:
    batches = list(connector(fake, **options).fetch(PACKAGE, state))
    mentions = [m for b in batches for m in b.mentions]
    return mentions, [p for b in batches for p in b.problems], batches[-1].state if batches else {}


def account_json(fake: FakeGooglePlay, **changes: Any) -> str:
    return json.dumps({**fake.account_info(), **changes})


def test_a_review_becomes_a_review_mention(fake: FakeGooglePlay) -> None:
    fake.write(
        {
            "reviewId": "gp:AOqpTOEXAMPLE1",
            "authorName": "Maya Lindqvist",
            "comments": [
                {
                    "userComment": {
                        "text": "Battery swelled\tMy Voltbook battery swelled and Voltmart will not take it back.",
                        "lastModified": {"seconds": "1767873600", "nanos": 713000000},
                        "starRating": 1,
                        "reviewerLanguage": "en_GB",
                        "device": "a52q",
                        "androidOsVersion": 34,
                        "appVersionCode": 40101,
                        "appVersionName": "4.1.1",
                        "thumbsUpCount": 12,
                        "thumbsDownCount": 2,
                    }
                },
                {
                    "developerComment": {
                        "text": "Sorry! Please write to help@voltmart.example.",
                        "lastModified": {"seconds": "1767877205", "nanos": 500000000},
                    }
                },
            ],
        }
    )
    (review,), problems, _ = fetch(fake)
    assert problems == []
    assert (review.platform, review.native_id, review.kind) == ("googleplay", "gp:AOqpTOEXAMPLE1", Kind.REVIEW)
    assert review.text == "Battery swelled\n\nMy Voltbook battery swelled and Voltmart will not take it back."
    assert review.rating == 1.0 and review.language == "en" and review.metrics.likes == 12
    assert review.url == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp:AOqpTOEXAMPLE1"
    assert review.author.id == "reviewer:gp:AOqpTOEXAMPLE1" and review.author.handle == "Maya Lindqvist"
    assert review.author.followers is None and review.parent_id is None and review.root_id is None
    assert review.query == PACKAGE and review.brand is None
    assert review.raw["reviewId"] == "gp:AOqpTOEXAMPLE1" and review.raw["comments"][0]["userComment"]["device"]
    # Google's protobuf Timestamp (int64 seconds as a string, nanos), read as UTC to the microsecond.
    assert review.created_at == datetime(2026, 1, 8, 12, 0, 0, 713000, tzinfo=UTC)
    assert review.raw["owner_reply"] == {
        "text": "Sorry! Please write to help@voltmart.example.",
        "replied_at": "2026-01-08T13:00:05Z",
    }


def test_the_generated_dataset_maps_without_problems(fake: FakeGooglePlay) -> None:
    ids = fake.add(10)
    mentions, problems, _ = fetch(fake)
    assert problems == [] and sorted(m.native_id for m in mentions) == sorted(ids)
    nameless = [m for m in mentions if "authorName" not in m.raw]
    assert nameless and all(m.author.handle == "" and m.author.id.startswith("reviewer:gp:") for m in nameless)
    answered = [m for m in mentions if "owner_reply" in m.raw]
    assert answered and all(m.raw["owner_reply"]["replied_at"].endswith("Z") for m in answered)
    assert {m.language for m in mentions} == {"en", "de", "fr"}
    assert all(m.rating in (1.0, 2.0, 3.0, 4.0, 5.0) and "\t" not in m.text for m in mentions)


def test_an_edited_review_comes_back_with_its_new_text_and_rating(fake: FakeGooglePlay) -> None:
    first_id, edited_id, *_ = fake.add(5)
    _, _, state = fetch(fake)
    fake.edit(edited_id, "Update: Voltmart replaced the battery, thank you!", rating=5)
    again, problems, after = fetch(fake, json.loads(json.dumps(state)))
    assert problems == [] and [m.native_id for m in again] == [edited_id]
    assert again[0].text == "Update: Voltmart replaced the battery, thank you!" and again[0].rating == 5.0
    assert after["since"]["ids"] == [edited_id]
    assert fetch(fake, after)[0] == []
    fake.edit(first_id, "Voltmart, still broken.", rating=2)
    fake.edit(edited_id, "Voltmart broke it again.", rating=1)
    assert sorted(m.native_id for m in fetch(fake, after)[0]) == sorted([first_id, edited_id])


def test_a_developer_reply_alone_does_not_move_the_review(fake: FakeGooglePlay) -> None:
    review_id = fake.add(2)[0]
    _, _, state = fetch(fake)
    fake.reply(review_id, "We are on it.", at=datetime(2026, 1, 9, 8, 0, tzinfo=UTC))
    assert fetch(fake, state)[0] == []  # the known limit: seen again only when the reviewer edits
    by_id = {m.native_id: m for m in fetch(fake)[0]}
    assert by_id[review_id].raw["owner_reply"] == {"text": "We are on it.", "replied_at": "2026-01-09T08:00:00Z"}


def test_reviews_modified_at_the_same_instant_are_not_lost(fake: FakeGooglePlay) -> None:
    (first,) = fake.add(1)
    _, _, state = fetch(fake)
    assert state == {"since": {"modified": state["since"]["modified"], "ids": [first]}}
    twin = fake.find(first) | {"reviewId": "gp:AOqpTOTWIN", "authorName": "Dan Okafor"}
    twin["comments"] = json.loads(json.dumps(twin["comments"]))
    fake.write(twin)  # written in the very same nanosecond as `first`
    again, _, after = fetch(fake, state)
    assert [m.native_id for m in again] == ["gp:AOqpTOTWIN"]
    assert after["since"]["ids"] == sorted([first, "gp:AOqpTOTWIN"])
    assert fetch(fake, after)[0] == []


def test_the_cursor_moves_only_when_a_scan_completes(fake: FakeGooglePlay) -> None:
    ids = fake.add(7)
    fake.fail("server_error", after=1, times=5)
    states: list[dict[str, Any]] = []
    with pytest.raises(Transient):
        for batch in connector(fake).fetch(PACKAGE, None):
            states.append(batch.state)
    (state,) = states
    assert "since" not in state and state["in_progress"]["newest"]["ids"] == [ids[-1]]
    fake.clear_faults()
    rest, _, final = fetch(fake, json.loads(json.dumps(state)))
    assert final == {"since": {"modified": state["in_progress"]["newest"]["modified"], "ids": [ids[-1]]}}
    assert fake.data_requests[-2].query["token"] == state["in_progress"]["next_token"]
    assert sorted(m.native_id for m in rest) == sorted(ids[:4])


def test_an_unreadable_cursor_rereads_the_week_and_says_so(fake: FakeGooglePlay) -> None:
    batches = list(connector(fake).fetch(PACKAGE, {"since": {"modified": "yesterday"}}))
    assert [(b.mentions, b.state) for b in batches] == [([], {})] and "unreadable" in batches[0].problems[0]
    ids = fake.add(4)
    mentions, problems, state = fetch(fake, {"since": {"modified": "yesterday"}})
    assert sorted(m.native_id for m in mentions) == sorted(ids)
    assert len(problems) == 1 and "unreadable" in problems[0] and state["since"]["ids"] == [ids[-1]]


def test_a_refused_page_token_from_the_last_run_restarts_the_scan(fake: FakeGooglePlay) -> None:
    ids = fake.add(7)
    stale = {"in_progress": {"newest": None, "next_token": "bm90LWEtdG9rZW4"}}
    mentions, problems, state = fetch(fake, stale)
    assert sorted(m.native_id for m in mentions) == sorted(ids) and state["since"]["ids"] == [ids[-1]]
    assert len(problems) == 1 and "refused the page token" in problems[0] and "INVALID_ARGUMENT" in problems[0]
    assert fake.data_requests[0].query["token"] == "bm90LWEtdG9rZW4" and "token" not in fake.data_requests[1].query


def test_reviews_older_than_a_week_are_out_of_reach(fake: FakeGooglePlay) -> None:
    old = fake.add(3)
    _, _, state = fetch(fake)
    newer = fake.add(2)
    fake.now = datetime(2026, 1, 15, 9, 4, tzinfo=UTC)  # the first three were written before 2026-01-08 09:04
    assert [m.native_id for m in fetch(fake)[0]] == newer[::-1]
    fake.now = datetime(2026, 2, 1, tzinfo=UTC)
    mentions, problems, after = fetch(fake, state)
    assert (mentions, problems, after) == ([], [], {}) and old  # a cursor past the window is no error


def test_one_token_per_run_and_the_requests_google_expects(fake: FakeGooglePlay) -> None:
    fake.add(7)
    fetch(fake, page_size=50)
    assert fake.tokens_issued == 1 and len(fake.data_requests) == 3
    (token_request,) = [r for r in fake.requests if r.path == "/token"]
    assertion = dict(pair.split("=", 1) for pair in token_request.body.decode().split("&"))["assertion"]
    claims = jwt.decode(assertion, certs=rsa_key("play-account")[1], audience="https://oauth2.googleapis.com/token")
    assert claims["iss"] == fake.client_email and claims["scope"] == SCOPE
    first, second, _ = fake.data_requests
    assert first.path == f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
    assert (
        first.headers["authorization"].startswith("Bearer ya29.") and first.headers["authorization"][7:] in fake.issued
    )
    assert first.query == {"maxResults": "50"} and set(second.query) == {"maxResults", "token"}
    assert first.headers["user-agent"].startswith("reputation-monitor/")


def test_translation_language_asks_google_to_translate(fake: FakeGooglePlay) -> None:
    fake.add(5)
    mentions, _, _ = fetch(fake, translation_language="en_GB")
    assert all(r.query["translationLanguage"] == "en_GB" for r in fake.data_requests)
    translated = [m for m in mentions if "originalText" in m.raw["comments"][0]["userComment"]]
    assert translated and all(m.text.startswith("[en_GB] ") and m.language == "en" for m in translated)
    untouched = [m for m in mentions if m not in translated]
    assert untouched and all(m.language == "en" for m in untouched)


def test_the_brand_option_claims_every_review_for_that_brand(fake: FakeGooglePlay) -> None:
    fake.add(2)
    assert {m.brand for m in fetch(fake, brand="Voltmart")[0]} == {"Voltmart"}


def test_a_broken_review_is_reported_and_the_rest_kept(fake: FakeGooglePlay) -> None:
    good = fake.add(2)
    fake.write({"reviewId": "gp:AOqpTOBROKEN", "comments": [{"userComment": {"text": "Voltmart", "lastModified": 5}}]})
    fake.write({"authorName": "no id", "comments": []})
    mentions, problems, _ = fetch(fake)
    assert sorted(m.native_id for m in mentions) == sorted(good)
    assert sorted(p.split(":")[1] for p in problems) == ["?", "gp"]
    assert any(p.startswith("googleplay:gp:AOqpTOBROKEN: ValueError") for p in problems)


def test_no_reviews_is_an_empty_answer_not_an_error(fake: FakeGooglePlay) -> None:
    mentions, problems, state = fetch(fake)
    assert (mentions, problems, state) == ([], [], {})
    assert len(fake.data_requests) == 1


def test_a_wrong_key_is_refused_by_the_token_endpoint(fake: FakeGooglePlay) -> None:
    fake.add(2)
    other_key = rsa_key("someone-else")[0]
    sleeps: list[float] = []
    env = {VARIABLE: account_json(fake, private_key=other_key)}
    with pytest.raises(AuthenticationFailed, match="Invalid JWT Signature") as failure:
        list(connector(fake, env=env, retry=RetryPolicy(max_attempts=4, sleep=sleeps.append)).fetch(PACKAGE, None))
    assert sleeps == [] and fake.data_requests == [] and fake.tokens_issued == 0
    assert "PRIVATE KEY" not in str(failure.value) and other_key[40:80] not in str(failure.value)
    unknown = {VARIABLE: account_json(fake, client_email="gone@voltmart-play.iam.gserviceaccount.com")}
    with pytest.raises(AuthenticationFailed, match="account not found"):
        list(connector(fake, env=unknown).fetch(PACKAGE, None))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{not json", "is not valid JSON"),
        ('{"type": "authorized_user", "client_id": "x", "refresh_token": "1//secret-refresh"}', "service account"),
        ("MISSING_FIELDS", "lacks client_email"),
        ("BAD_KEY", "not a PEM-encoded RSA private key"),
    ],
)
def test_a_malformed_key_names_the_variable_without_echoing_it(fake: FakeGooglePlay, value: str, says: str) -> None:
    if value == "MISSING_FIELDS":
        value = json.dumps({k: v for k, v in fake.account_info().items() if k != "client_email"})
    elif value == "BAD_KEY":
        value = account_json(fake, private_key="-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END")
    with pytest.raises(AuthenticationFailed, match=says) as failure:
        list(connector(fake, env={VARIABLE: value}).fetch(PACKAGE, None))
    message = str(failure.value)
    assert VARIABLE in message and "secret" not in message and "PRIVATE KEY" not in message
    # No chained exception (a JSON decode error, cryptography's complaint) carries the value into a traceback.
    assert failure.value.__cause__ is None
    assert failure.value.__context__ is None or failure.value.__suppress_context__
    assert fake.requests == []


def test_a_missing_variable_fails_at_construction(fake: FakeGooglePlay) -> None:
    with pytest.raises(AuthenticationFailed, match=VARIABLE):
        connector(fake, env={VARIABLE: "  "})


def test_a_token_endpoint_outage_is_transient_and_retried_by_the_policy(fake: FakeGooglePlay) -> None:
    fake.add(4)
    fake.token_faults = ["server_error"] * 5
    with pytest.raises(Transient, match="token endpoint is failing"):
        list(connector(fake).fetch(PACKAGE, None))
    assert len([r for r in fake.requests if r.path == "/token"]) == 1  # google-auth's own retries stay off
    fake.token_faults = ["server_error", "rate_limit"]
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=4, sleep=sleeps.append, jitter=lambda: 0.5)
    mentions = [m for b in connector(fake, retry=policy).fetch(PACKAGE, None) for m in b.mentions]
    assert len(mentions) == 4 and len(sleeps) == 2 and fake.tokens_issued == 1


def test_an_unreachable_token_endpoint_is_transient(fake: FakeGooglePlay) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = {VARIABLE: account_json(fake, token_uri=f"http://127.0.0.1:{closed_port}/token")}
    with pytest.raises(Transient, match="did not answer: ConnectionError"):
        list(connector(fake, env=env).fetch(PACKAGE, None))


def test_quota_errors_are_rate_limits_even_as_403(fake: FakeGooglePlay) -> None:
    fake.add(2)
    fake.fail("rate_limit")
    with pytest.raises(RateLimited, match="RESOURCE_EXHAUSTED") as exhausted:
        list(connector(fake).fetch(PACKAGE, None))
    assert exhausted.value.retry_after_seconds == fake.retry_after_seconds  # from google.rpc.RetryInfo
    fake.quota_as_403 = True
    fake.fail("rate_limit")
    with pytest.raises(RateLimited, match="PERMISSION_DENIED: Quota exceeded"):
        list(connector(fake).fetch(PACKAGE, None))


def test_an_app_the_account_may_not_read_or_that_does_not_exist(fake: FakeGooglePlay) -> None:
    fake.forbidden_packages.add(PACKAGE)
    with pytest.raises(AuthenticationFailed, match="invite it to the app in Play Console"):
        list(connector(fake).fetch(PACKAGE, None))
    with pytest.raises(ConnectorError, match="knows no app") as missing:
        list(connector(fake).fetch("com.voltmart.nothere", None))
    assert type(missing.value) is ConnectorError


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"page_size": 0}, r"options\.page_size must be from 1 to 100"),
        ({"page_size": "many"}, r"options\.page_size must be a whole number"),
        ({"translation_language": "English please"}, r"options\.translation_language"),
        ({"timeout_seconds": -1}, r"options\.timeout_seconds"),
        ({"brand": ["Voltmart"]}, r"options\.brand must be text"),
        ({"pagesize": 10}, r"unknown options \['pagesize'\]"),
    ],
)
def test_bad_options_are_named(fake: FakeGooglePlay, options: dict[str, Any], says: str) -> None:
    with pytest.raises(ConnectorError, match=f"source 'play': {says}"):
        connector(fake, **options)


def test_the_query_must_be_a_package_name(fake: FakeGooglePlay) -> None:
    with pytest.raises(ConnectorError, match="package name"):
        list(connector(fake).fetch("voltmart OR volt mart", None))
    assert fake.requests == []


def test_the_private_key_and_tokens_stay_out_of_debug_logs(
    fake: FakeGooglePlay, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add(4)
    caplog.set_level(logging.DEBUG)
    fetch(fake)
    key_body = rsa_key("play-account")[0].splitlines()[3]
    assert fake.issued and key_body not in caplog.text
    assert all(token not in caplog.text for token in fake.issued)


runner = CliRunner()


def test_reputation_fetch_googleplay_prints_mentions(fake: FakeGooglePlay, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add(5)
    monkeypatch.setenv(VARIABLE, fake.env[VARIABLE])
    result = runner.invoke(
        app,
        ["fetch", "googleplay", "--query", PACKAGE, "--base-url", fake.url, "--option", "page_size=2", "--limit", "4"],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and {line["kind"] for line in lines} == {"review"}
    assert all(line["platform"] == "googleplay" and line["rating"] for line in lines)
    assert {r.query["maxResults"] for r in fake.data_requests} == {"2"}
