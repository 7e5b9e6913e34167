"""The App Store connector: the contract suite, then what is particular to Apple's review feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.appstore import AppStoreConnector
from connectors.errors import AuthenticationFailed, ConnectorError, RateLimited
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import Kind, Mention
from tests.fakes.appstore import APP_ID, START, FakeAppStore


class TestAppStoreContract(ConnectorContract, connector=AppStoreConnector, fake=FakeAppStore, query=APP_ID): ...


@pytest.fixture
def fake() -> Iterator[FakeAppStore]:
    running = FakeAppStore()
    with running:
        yield running


def connector(
    fake: FakeAppStore, query: str = APP_ID, limit: int | None = None, retry: RetryPolicy | None = None, **options: Any
) -> AppStoreConnector:
    settings = SourceSettings(name="appstore", query=query, base_url=fake.url, limit=limit, options=options)
    return AppStoreConnector(settings, retry=retry or RetryPolicy(max_attempts=1))


def fetch(
    fake: FakeAppStore, state: dict[str, Any] | None = None, query: str = APP_ID, **options: Any
) -> tuple[list[Mention], list[str], dict[str, Any]]:
    batches = list(connector(fake, query, **options).fetch(query, state))
    mentions = [m for b in batches for m in b.mentions]
    return mentions, [p for b in batches for p in b.problems], batches[-1].state if batches else {}


def test_reviews_are_mapped_to_mentions(fake: FakeAppStore) -> None:
    review = fake.post(title="Three weeks, no refund", content="Voltmart still has my money.", rating=1)
    review.vote_sum, review.vote_count = 4, 6
    (mention,), problems, _ = fetch(fake)
    assert problems == []
    assert mention.platform == "appstore" and mention.kind is Kind.REVIEW
    assert mention.native_id == f"us:{review.review_id}"
    assert mention.text == "Three weeks, no refund\n\nVoltmart still has my money."
    assert mention.rating == 1 and mention.language is None
    assert mention.url == f"https://apps.apple.com/us/app/id{APP_ID}?see-all=reviews"
    assert (mention.author.id, mention.author.handle) == (review.profile_id, review.author)
    assert mention.parent_id is None and mention.root_id is None
    assert mention.metrics.likes == 4 and mention.query == APP_ID
    assert mention.raw["country"] == "us" and mention.raw["id"]["label"] == review.review_id
    assert mention.raw["im:voteCount"]["label"] == "6" and mention.raw["im:version"]["label"] == "4.2.1"
    assert "owner_reply" not in mention.raw  # the public feed carries no developer responses


def test_pacific_times_become_utc(fake: FakeAppStore) -> None:
    review = fake.post()
    (mention,), _, _ = fetch(fake)
    served = mention.raw["updated"]["label"]
    assert served.endswith("-08:00") and served.startswith("2026-01-08T04:01:00")  # January: PST
    assert mention.created_at == review.updated == START + timedelta(minutes=1)
    assert mention.created_at.tzinfo == UTC


def test_an_author_without_a_profile_link_is_known_by_name(fake: FakeAppStore) -> None:
    fake.post(author="sleepy pangolin", profile_id=None)
    (mention,), _, _ = fetch(fake)
    assert mention.author.id == "sleepy pangolin" and mention.author.handle == "sleepy pangolin"


def test_a_review_without_any_author_is_kept_with_an_unknown_one_of_its_own(fake: FakeAppStore) -> None:
    review = fake.post(extra={"author": None})
    found = list(connector(fake).fetch(APP_ID, None))
    (mention,) = [m for b in found for m in b.mentions]
    assert mention.author.id == f"[unknown]:us:{review.review_id}" and mention.author.handle == ""
    assert sum(b.degraded for b in found) == 1 and not any(b.problems for b in found)


def test_an_edited_review_comes_again_with_its_new_text_and_rating(fake: FakeAppStore) -> None:
    first, *_ = fake.add(3)
    _, _, state = fetch(fake)
    assert fetch(fake, state)[0] == []
    fake.edit(first, content="Update: Voltmart refunded me after all. Took a month.", rating=3)
    (edited,), problems, after = fetch(fake, json.loads(json.dumps(state)))
    assert problems == [] and edited.native_id == first
    assert edited.text.endswith("Voltmart refunded me after all. Took a month.") and edited.rating == 3
    assert edited.created_at == fake.reviews[0].updated  # the time of the version shown
    assert fetch(fake, after)[0] == [], "an edit is delivered once"


def test_a_review_that_surfaces_late_is_caught_within_the_look_back(fake: FakeAppStore) -> None:
    fake.add(3)
    _, _, state = fetch(fake, lookback_hours=1)
    newest = fake.reviews[-1].updated
    late = fake.post(updated=newest - timedelta(minutes=30))
    too_late = fake.post(updated=newest - timedelta(hours=2))
    mentions, _, after = fetch(fake, state, lookback_hours=1)
    assert [m.native_id for m in mentions] == [late.native_id]
    assert too_late.native_id not in after["us"]["seen"]
    assert after["us"]["since"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_cursor_keeps_only_what_the_look_back_can_still_meet(fake: FakeAppStore) -> None:
    old = fake.post(updated=START - timedelta(days=5))
    recent = fake.add(2)
    _, _, state = fetch(fake)
    assert set(state["us"]["seen"]) == {native_id.split(":")[1] for native_id in recent}
    assert old.review_id not in state["us"]["seen"]


def test_a_cursor_stored_as_json_by_an_earlier_run_is_read_and_kept_in_its_shape(fake: FakeAppStore) -> None:
    old, recent = fake.post(), fake.post()
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    # The shape every earlier version stored, written by hand: one review seen, the other not.
    stored = {"us": {"since": old.updated.strftime(stamp), "seen": {old.review_id: old.updated.strftime(stamp)}}}
    mentions, problems, state = fetch(fake, stored)
    assert [m.native_id for m in mentions] == [recent.native_id] and problems == []
    assert state == {
        "us": {
            "since": recent.updated.strftime(stamp),
            "seen": {recent.review_id: recent.updated.strftime(stamp), old.review_id: old.updated.strftime(stamp)},
        }
    }
    garbled = {"us": {"since": "not a time", "seen": ["not", "a", "map"], "in_progress": 7}}
    assert sorted(m.native_id for m in fetch(fake, garbled)[0]) == sorted([old.native_id, recent.native_id])


def test_storefronts_have_their_own_feed_and_cursor(fake: FakeAppStore) -> None:
    us = fake.post("us")
    gb = fake.post("gb", review_id=us.review_id, author="Marisol P")  # even a clashing id stays apart
    mentions, _, state = fetch(fake, countries=["us", "GB"])
    assert {m.native_id for m in mentions} == {f"us:{us.review_id}", f"gb:{gb.review_id}"}
    assert {m.url for m in mentions} == {
        f"https://apps.apple.com/us/app/id{APP_ID}?see-all=reviews",
        f"https://apps.apple.com/gb/app/id{APP_ID}?see-all=reviews",
    }
    assert set(state) == {"us", "gb"}
    assert {r.path.split("/")[1] for r in fake.data_requests} == {"us", "gb"}
    newer = fake.post("gb")
    assert [m.native_id for m in fetch(fake, state, countries="us,gb")[0]] == [newer.native_id]


def test_a_limit_spans_storefronts_and_the_next_run_finishes(fake: FakeAppStore) -> None:
    us = fake.add(4)
    gb = [fake.post("gb").native_id for _ in range(2)]
    limited = list(connector(fake, limit=3, countries=["us", "gb"]).fetch(APP_ID, None))
    first = [m.native_id for b in limited for m in b.mentions]
    assert len(first) == 3 and all(native_id.startswith("us:") for native_id in first)
    rest, _, state = fetch(fake, limited[-1].state, countries=["us", "gb"])
    assert sorted(first + [m.native_id for m in rest]) == sorted(us + gb)
    assert "since" in state["us"] and "since" in state["gb"]


def test_the_feed_is_asked_for_newest_first_and_never_past_page_10(fake: FakeAppStore) -> None:
    fake.add(35)
    mentions, _, _ = fetch(fake)
    assert len(mentions) == 30  # 10 pages of 3: Apple serves no deeper
    assert [r.path for r in fake.data_requests][:2] == [
        f"/us/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json",
        f"/us/rss/customerreviews/page=2/id={APP_ID}/sortby=mostrecent/json",
    ]
    assert len(fake.data_requests) == 10 and "authorization" not in fake.data_requests[0].headers
    assert [m.native_id for m in mentions] == [r.native_id for r in reversed(fake.reviews)][:30]


def test_a_lone_review_arrives_as_an_object_and_an_empty_feed_has_no_entry(fake: FakeAppStore) -> None:
    assert fetch(fake) == ([], [], {"us": {"seen": {}}})
    review = fake.post()
    assert [m.native_id for m in fetch(fake)[0]] == [review.native_id]


def test_the_app_entry_of_older_feeds_is_not_a_review(fake: FakeAppStore) -> None:
    ids = fake.add(2)
    fake.app_entry_first = True
    mentions, problems, _ = fetch(fake)
    assert sorted(m.native_id for m in mentions) == sorted(ids) and problems == []


def test_broken_entries_are_reported_once_and_skipped(fake: FakeAppStore) -> None:
    good = fake.post()
    zero = fake.post(extra={"im:rating": {"label": "0"}})
    unreadable = fake.post(extra={"updated": {"label": "last Tuesday"}})
    mentions, problems, state = fetch(fake)
    assert [m.native_id for m in mentions] == [good.native_id]
    assert len(problems) == 2
    assert problems[0].startswith(f"appstore:us:{unreadable.review_id}: ValueError")
    assert problems[1].startswith(f"appstore:us:{zero.review_id}: ValueError")
    assert fetch(fake, state)[1] == [problems[0]], "a rating that cannot be read is not reported again"


def test_reviews_without_updated_are_dated_when_first_fetched_and_counted_as_degraded(fake: FakeAppStore) -> None:
    # Apple's feed served reviews without `updated` in 2020-2021; they are kept, never skipped.
    dated = fake.post()
    undated = [fake.post(extra={"updated": None}) for _ in range(3)]
    before = datetime.now(UTC)
    batches = list(connector(fake).fetch(APP_ID, None))
    after = datetime.now(UTC)
    mentions = {m.native_id: m for b in batches for m in b.mentions}
    assert sorted(mentions) == sorted([dated.native_id, *(r.native_id for r in undated)])
    assert not any(b.problems for b in batches) and sum(b.degraded for b in batches) == 3
    for review in undated:
        first_fetch = mentions[review.native_id].created_at
        assert before - timedelta(seconds=1) <= first_fetch <= after
    again = list(connector(fake).fetch(APP_ID, batches[-1].state))
    assert [m for b in again for m in b.mentions] == [], "an undated review is not yielded again"


@pytest.mark.parametrize("query", [APP_ID, f"id{APP_ID}", f"https://apps.apple.com/us/app/voltmart/id{APP_ID}?l=en"])
def test_the_query_is_the_app_id_in_any_usual_form(fake: FakeAppStore, query: str) -> None:
    fake.add(1)
    assert len(fetch(fake, query=query)[0]) == 1
    assert f"/id={APP_ID}/" in fake.data_requests[-1].path


@pytest.mark.parametrize(
    ("query", "options", "message"),
    [
        ("voltmart", {}, "numeric App Store id"),
        ("", {}, "numeric App Store id"),
        (APP_ID, {"countries": ["usa"]}, r"options\.countries"),
        (APP_ID, {"countries": {"us": 1}}, r"options\.countries"),
        (APP_ID, {"countries": []}, r"options\.countries"),
        (APP_ID, {"lookback_hours": "two days"}, r"options\.lookback_hours"),
        (APP_ID, {"timeout_seconds": 0}, r"options\.timeout_seconds"),
        (APP_ID, {"retry": {"attempts": 3}}, r"options\.retry"),
    ],
)
def test_bad_settings_are_clear_errors(fake: FakeAppStore, query: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        settings = SourceSettings(name="appstore", query=query, base_url=fake.url, options=options)
        list(AppStoreConnector(settings).fetch(query, None))
    assert fake.data_requests == []


def test_a_403_says_apple_is_refusing_this_client_and_is_not_retried(fake: FakeAppStore) -> None:
    fake.add(2)
    fake.fail("unauthorized", times=5)
    sleeps: list[float] = []
    with pytest.raises(AuthenticationFailed, match="throttling or blocking") as failure:
        list(connector(fake, retry=RetryPolicy(max_attempts=3, sleep=sleeps.append)).fetch(APP_ID, None))
    assert "HTTP 403" in str(failure.value) and sleeps == [] and len(fake.data_requests) == 1


def test_a_429_without_retry_after_backs_off(fake: FakeAppStore) -> None:
    fake.add(2)
    fake.send_retry_after = False
    fake.fail("rate_limit")
    with pytest.raises(RateLimited) as failure:
        list(connector(fake).fetch(APP_ID, None))
    assert failure.value.retry_after_seconds is None
    fake.fail("rate_limit")
    sleeps: list[float] = []
    retried = connector(fake, retry=RetryPolicy(max_attempts=2, sleep=sleeps.append, jitter=lambda: 0.5))
    assert len([m for b in retried.fetch(APP_ID, None) for m in b.mentions]) == 2
    assert sleeps == [0.75]  # the policy's own backoff: 1s base, half of it jittered


runner = CliRunner()


def test_reputation_fetch_appstore_prints_reviews(fake: FakeAppStore) -> None:
    fake.add(2)
    fake.post("gb")
    result = runner.invoke(
        app,
        ["fetch", "appstore", "--query", f"id{APP_ID}", "--base-url", fake.url, "--option", "countries=[us, gb]"],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3 and {line["kind"] for line in lines} == {"review"}
    assert {line["native_id"].split(":")[0] for line in lines} == {"us", "gb"}
    assert all(line["created_at"].endswith("Z") and 1 <= line["rating"] <= 5 for line in lines)
    assert datetime.fromisoformat(lines[0]["created_at"]) > START
