"""The Trustpilot connector: the contract suite, then what is particular to Trustpilot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from connectors.errors import AuthenticationFailed, ConnectorError, RateLimited
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from connectors.trustpilot import UNADVISED_WAIT_SECONDS, TrustpilotConnector
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import Kind, Mention
from tests.fakes.trustpilot import BUSINESS_UNIT_ID, DOMAIN, FIND_PATH, FakeTrustpilot


class TestTrustpilotContract(ConnectorContract, connector=TrustpilotConnector, fake=FakeTrustpilot, query=DOMAIN): ...


@pytest.fixture
def fake() -> Iterator[FakeTrustpilot]:
    running = FakeTrustpilot()
    with running:
        yield running


def connector(
    fake: FakeTrustpilot, query: str = DOMAIN, limit: int | None = None, **options: Any
) -> TrustpilotConnector:
    settings = SourceSettings(
        name="reviews", query=query, base_url=fake.url, limit=limit, options=options, env=fake.env
    )
    return TrustpilotConnector(settings, retry=RetryPolicy(max_attempts=1))


def fetch(
    fake: FakeTrustpilot, state: dict[str, Any] | None = None, query: str = DOMAIN, **options: Any
) -> tuple[list[Mention], list[str], dict[str, Any]]:
    batches = list(connector(fake, query, **options).fetch(query, state))
    mentions = [m for b in batches for m in b.mentions]
    return mentions, [p for b in batches for p in b.problems], batches[-1].state if batches else {}


def test_the_key_travels_in_the_apikey_header_and_never_in_a_url(fake: FakeTrustpilot) -> None:
    fake.add(4)
    fetch(fake)
    assert fake.requests[0].path == FIND_PATH and fake.requests[0].query == {"name": DOMAIN}
    for request in fake.requests:
        assert request.headers["apikey"] == fake.api_key and "apikey" not in request.query
    first = fake.data_requests[0]
    assert first.path == f"/v1/business-units/{BUSINESS_UNIT_ID}/reviews"
    assert first.query == {"perPage": "100", "page": "1", "orderBy": "createdat.desc"}


def test_the_business_unit_is_found_once_and_kept_in_the_cursor(fake: FakeTrustpilot) -> None:
    fake.add(2)
    _, _, state = fetch(fake)
    assert state["business_unit"] == {"name": DOMAIN, "id": BUSINESS_UNIT_ID}
    fake.add(1)
    mentions, _, _ = fetch(fake, json.loads(json.dumps(state)))
    assert len(mentions) == 1
    assert [r.path for r in fake.requests].count(FIND_PATH) == 1


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        (BUSINESS_UNIT_ID, None),
        ("https://www.trustpilot.com/review/www.voltmart.com", "www.voltmart.com"),
        ("uk.trustpilot.com/review/Voltmart.com?page=2", DOMAIN),
    ],
)
def test_the_query_may_be_an_id_a_domain_or_a_profile_link(fake: FakeTrustpilot, query: str, asked: str | None) -> None:
    fake.add(2)
    mentions, _, state = fetch(fake, query=query)
    assert len(mentions) == 2 and state["business_unit"]["id"] == BUSINESS_UNIT_ID
    finds = [r.query["name"] for r in fake.requests if r.path == FIND_PATH]
    assert finds == ([asked] if asked else [])


def test_an_unknown_domain_or_no_query_is_a_clear_error(fake: FakeTrustpilot) -> None:
    with pytest.raises(ConnectorError, match=r"no business unit named 'nosuchshop\.example'"):
        fetch(fake, query="nosuchshop.example")
    with pytest.raises(ConnectorError, match="must name a Trustpilot business unit"):
        fetch(fake, query="")


def test_reviews_become_review_mentions_with_the_owner_reply(fake: FakeTrustpilot) -> None:
    plain_id, answered_id = fake.add(2)
    fake.reply(answered_id, "Sorry to hear this. We have sent a courier for the laptop today.")
    by_id = {m.native_id: m for m in fetch(fake)[0]}
    plain, answered = by_id[plain_id], by_id[answered_id]
    source = fake.find(answered_id)
    assert answered.kind is Kind.REVIEW and answered.platform == "trustpilot"
    assert answered.url == f"https://www.trustpilot.com/reviews/{answered_id}"
    assert answered.text == f"{source['title']}\n\n{source['text']}" and "Voltmart" in answered.text
    assert answered.rating == float(source["stars"]) and answered.language == "en"
    assert (
        answered.author.id == source["consumer"]["id"] and answered.author.handle == source["consumer"]["displayName"]
    )
    assert answered.author.followers is None and answered.metrics.likes == source["numberOfLikes"]
    assert (answered.parent_id, answered.root_id) == (None, None)
    reply_at = datetime.fromisoformat(source["companyReply"]["createdAt"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert answered.raw["owner_reply"] == {"text": source["companyReply"]["text"], "replied_at": reply_at}
    assert answered.raw["companyReply"] == source["companyReply"] and answered.raw["consumer"]["id"]
    assert "owner_reply" not in plain.raw and plain.raw["id"] == plain_id


def test_times_become_utc_whatever_form_trustpilot_gives(fake: FakeTrustpilot) -> None:
    stamps = {
        "2026-03-29T00:59:58Z": datetime(2026, 3, 29, 0, 59, 58, tzinfo=UTC),
        "2026-03-29T01:00:01.250Z": datetime(2026, 3, 29, 1, 0, 1, 250000, tzinfo=UTC),
        "2026-03-29T01:00:03": datetime(2026, 3, 29, 1, 0, 3, tzinfo=UTC),  # the docs' examples carry no zone
        "2026-03-29T03:00:05+02:00": datetime(2026, 3, 29, 1, 0, 5, tzinfo=UTC),
    }
    ids = {fake.post(fake.review(createdAt=stamp)): expected for stamp, expected in stamps.items()}
    mentions, problems, _ = fetch(fake)
    assert problems == [] and {m.native_id: m.created_at for m in mentions} == ids
    assert all(m.created_at.tzinfo is UTC for m in mentions)
    line = mentions[0].to_json_dict()
    assert line["created_at"] == "2026-03-29T01:00:05Z"


def test_an_edited_review_comes_again_with_its_new_text_and_stars(fake: FakeTrustpilot) -> None:
    ids = fake.add(7)
    first, _, state = fetch(fake)
    assert len(first) == 7
    fake.edit(ids[0], title="Update: still no repair", text="Voltmart has now had my laptop for six weeks.", stars=1)
    again, problems, state = fetch(fake, json.loads(json.dumps(state)))
    (edited,) = again
    assert problems == [] and edited.native_id == ids[0]
    assert edited.text == "Update: still no repair\n\nVoltmart has now had my laptop for six weeks."
    assert edited.rating == 1.0 and edited.created_at == next(m.created_at for m in first if m.native_id == ids[0])
    assert fetch(fake, state)[0] == []


def test_a_company_reply_brings_the_review_back_answered(fake: FakeTrustpilot) -> None:
    ids = fake.add(5)
    _, _, state = fetch(fake)
    fake.reply(ids[1], "We are sorry. Our team will call you today.")
    (answered,) = fetch(fake, state)[0]
    assert answered.native_id == ids[1]
    assert answered.raw["owner_reply"]["text"] == "We are sorry. Our team will call you today."


def test_a_run_reads_only_down_to_the_recheck_window(fake: FakeTrustpilot) -> None:
    ids = fake.add(9)  # a minute apart, three to a page
    _, _, state = fetch(fake)
    fake.requests.clear()
    fake.edit(ids[0], text="Voltmart replaced it in the end.")
    assert fetch(fake, state, recheck_days=4 / 1440)[0] == []  # the edited review is older than 4 minutes
    assert [r.query["page"] for r in fake.data_requests] == ["1", "2"]
    (edited,) = fetch(fake, state)[0]  # the default window: 7 days
    assert edited.native_id == ids[0]


def test_a_resumed_scan_neither_repeats_nor_skips_when_reviews_arrive(fake: FakeTrustpilot) -> None:
    ids = fake.add(9)
    limited = list(connector(fake, limit=2).fetch(DOMAIN, None))
    read = [m.native_id for b in limited for m in b.mentions]
    assert read == ids[:-4:-1] and limited[-1].state["in_progress"]["page"] == 2
    newer = fake.add(2)  # pushes every review two places down the listing
    rest, _, state = fetch(fake, json.loads(json.dumps(limited[-1].state)))
    assert sorted(m.native_id for m in rest) == sorted(ids[:6])
    assert "in_progress" not in state
    assert sorted(m.native_id for m in fetch(fake, state)[0]) == sorted(newer)


def test_a_resumed_scan_does_not_skip_reviews_a_deletion_pulled_up(fake: FakeTrustpilot) -> None:
    ids = fake.add(9)
    limited = list(connector(fake, limit=2).fetch(DOMAIN, None))
    fake.remove(ids[-1])
    fake.remove(ids[-2])  # page 2's first two reviews move up to page 1
    rest, _, _ = fetch(fake, limited[-1].state)
    assert sorted(m.native_id for m in rest) == sorted(ids[:6])
    assert fake.data_requests[-3].query["page"] == "1"  # it resumed one page early


def test_a_new_page_size_resumes_from_the_first_page_without_repeating(fake: FakeTrustpilot) -> None:
    ids = fake.add(7)
    limited = list(connector(fake, limit=1).fetch(DOMAIN, None))
    rest, _, _ = fetch(fake, limited[-1].state, page_size=50)
    read = [m.native_id for b in limited for m in b.mentions] + [m.native_id for m in rest]
    assert sorted(read) == sorted(ids)
    assert fake.data_requests[1].query == {"perPage": "50", "page": "1", "orderBy": "createdat.desc"}


def test_a_change_later_than_trustpilots_clock_is_read_again(fake: FakeTrustpilot) -> None:
    fake.add(3)
    ahead = datetime.now(UTC) + timedelta(hours=1)
    skewed = fake.post(fake.review(updatedAt=ahead.strftime("%Y-%m-%dT%H:%M:%SZ")))
    _, _, state = fetch(fake)
    # The watermark stops at the Date of the scan's first answer; what is later comes again, nothing else.
    assert datetime.fromisoformat(state["watermark"]["at"]) < ahead
    assert [m.native_id for m in fetch(fake, state)[0]] == [skewed]


def test_filters_reach_the_request_and_a_changed_filter_starts_afresh(fake: FakeTrustpilot) -> None:
    fake.add(8)
    _, _, state = fetch(fake)
    filtered = connector(fake, language="en", stars=[1, 2], page_size=20)
    urls: list[str] = []
    filtered.http.session.hooks["response"].append(lambda response, *_, **__: urls.append(response.request.url))
    mentions = [m for batch in filtered.fetch(DOMAIN, state) for m in batch.mentions]
    assert urls and all("language=en&stars=1&stars=2" in url and "perPage=20" in url for url in urls)
    assert mentions and {m.rating for m in mentions} <= {1.0, 2.0}  # the fake honours the last `stars` only


def test_a_cursor_for_another_business_unit_is_not_used(fake: FakeTrustpilot) -> None:
    fake.add(4)
    _, _, state = fetch(fake)
    state["business_unit"] = {"name": "elsewhere.example", "id": "0123456789abcdef01234567"}
    assert len(fetch(fake, state)[0]) == 4


def test_broken_reviews_are_reported_and_an_anonymous_one_is_kept_as_degraded(fake: FakeTrustpilot) -> None:
    fake.add(2)
    undated = fake.post(fake.review(createdAt="last Tuesday"))
    anonymous = fake.post(fake.review(consumer={"displayName": "Ghost"}))
    found = list(connector(fake).fetch(DOMAIN, None))
    mentions = {m.native_id: m for b in found for m in b.mentions}
    problems = [p for b in found for p in b.problems]
    assert len(mentions) == 3 and len(problems) == 1 and sum(b.degraded for b in found) == 1
    # Without a consumer id the reviewer is unknown, and an author of their own.
    assert mentions[anonymous].author.id == f"[unknown]:{anonymous}" and mentions[anonymous].author.handle == "Ghost"
    assert problems[0].startswith(f"trustpilot:{undated}: ValueError: not a timestamp")


def test_a_429_without_advice_waits_a_minute(fake: FakeTrustpilot) -> None:
    fake.add(2)
    fake.advise_retry = False
    fake.fail("rate_limit")
    with pytest.raises(RateLimited) as limited:
        fetch(fake)
    assert limited.value.retry_after_seconds == UNADVISED_WAIT_SECONDS
    assert "QuotaViolation" in str(limited.value)


def test_a_wrong_key_names_the_variable_and_never_shows_the_key(fake: FakeTrustpilot) -> None:
    settings = SourceSettings(name="reviews", query=DOMAIN, base_url=fake.url, env={"TRUSTPILOT_API_KEY": "nope-1234"})
    with pytest.raises(AuthenticationFailed, match="TRUSTPILOT_API_KEY") as failure:
        list(TrustpilotConnector(settings).fetch(DOMAIN, None))
    assert "Invalid ApiKey" in str(failure.value) and "nope-1234" not in str(failure.value)
    with pytest.raises(AuthenticationFailed, match="set TRUSTPILOT_API_KEY"):
        TrustpilotConnector(SourceSettings(name="reviews", query=DOMAIN, env={}))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("page_size", 0),
        ("page_size", "100"),
        ("stars", [1, 6]),
        ("language", "english please"),
        ("recheck_days", -1),
        ("recheck_days", "week"),
        ("timeout_seconds", 0),
    ],
)
def test_bad_options_name_the_source_and_the_option(fake: FakeTrustpilot, option: str, value: Any) -> None:
    with pytest.raises(ConnectorError, match=rf"source 'reviews': options\.{option} must be"):
        connector(fake, DOMAIN, None, **{option: value})


def test_the_http_client_keeps_the_key_out_of_its_errors(fake: FakeTrustpilot) -> None:
    fake.add(1)
    fake.fail("server_error")
    client = connector(fake)
    with pytest.raises(ConnectorError) as failure:
        list(client.fetch(DOMAIN, None))
    assert "ServiceUnavailable" in str(failure.value) and fake.api_key not in str(failure.value)
    assert isinstance(client.http.session, requests.Session) and "apikey" not in str(fake.data_requests[0].query)


runner = CliRunner()


def test_reputation_fetch_trustpilot_prints_mentions(fake: FakeTrustpilot, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add(5)
    monkeypatch.setenv("TRUSTPILOT_API_KEY", fake.api_key)
    result = runner.invoke(
        app, ["fetch", "trustpilot", "--query", DOMAIN, "--base-url", fake.url, "--option", "page_size=2"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5 and all(line["platform"] == "trustpilot" and line["kind"] == "review" for line in lines)
    assert all(line["rating"] in (1, 2, 4, 5) and line["created_at"].endswith("Z") for line in lines)
    assert fake.data_requests[0].query["perPage"] == "2"


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("Great laptop, awful delivery", "Great laptop, awful delivery. It came two weeks late.", None),
        ("Still waiting for my refund...", "Still waiting for my refund after six weeks.", None),
        ("Refund", "Voltmart kept my money.", "Refund\n\nVoltmart kept my money."),
    ],
)
def test_the_title_is_not_repeated_when_the_text_opens_with_it(
    fake: FakeTrustpilot, title: str, text: str, expected: str | None
) -> None:
    (review_id,) = fake.add(1)
    fake.edit(review_id, title=title, text=text)
    (mention,) = [m for b in connector(fake).fetch(DOMAIN, None) for m in b.mentions]
    assert mention.text == (expected or text)
