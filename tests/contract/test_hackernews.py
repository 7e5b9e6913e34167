"""The Hacker News connector: the contract suite, then what is particular to HN Search."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited
from connectors.hackernews import RATE_LIMIT_WAIT_SECONDS, HackerNewsConnector
from connectors.html import html_to_text
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import FetchedBatch, Kind, Mention
from tests.fakes.hackernews import FakeHackerNews

OPTIONS = {"hits_per_page": 3}


class TestHackerNewsContract(
    ConnectorContract, connector=HackerNewsConnector, fake=FakeHackerNews, options=OPTIONS
): ...


@pytest.fixture
def fake() -> Iterator[FakeHackerNews]:
    running = FakeHackerNews()
    with running:
        yield running


def connector(fake: FakeHackerNews, limit: int | None = None, **options: object) -> HackerNewsConnector:
    settings = SourceSettings(
        name="hn", query="voltmart", base_url=fake.url, limit=limit, options={**OPTIONS, **options}
    )
    return HackerNewsConnector(settings, retry=RetryPolicy(max_attempts=1))


def batches(
    fake: FakeHackerNews, state: dict[str, Any] | None = None, limit: int | None = None, **options: object
) -> list[FetchedBatch]:
    return list(connector(fake, limit, **options).fetch("voltmart", state))


def mentions(found: list[FetchedBatch]) -> list[Mention]:
    return [mention for batch in found for mention in batch.mentions]


def final_state(found: list[FetchedBatch]) -> dict[str, Any]:
    return json.loads(json.dumps(found[-1].state)) if found else {}


def test_stories_comments_and_replies_join_the_thread(fake: FakeHackerNews) -> None:
    story_id, comment_id, reply_id = fake.add(3)
    by_id = {m.native_id: m for m in mentions(batches(fake))}
    story, comment, reply = by_id[story_id], by_id[comment_id], by_id[reply_id]
    assert (story.kind, story.parent_id, story.root_id) == (Kind.POST, None, None)
    assert (comment.kind, comment.parent_id, comment.root_id) == (Kind.COMMENT, story_id, story_id)
    assert (reply.kind, reply.parent_id, reply.root_id) == (Kind.REPLY, comment_id, story_id)
    for mention in (story, comment, reply):
        assert mention.url == f"https://news.ycombinator.com/item?id={mention.native_id}"
        assert mention.author.id == mention.author.handle == fake.item(mention.native_id)["author"]
        assert mention.author.followers is None and mention.language is None and mention.query == "voltmart"
        assert "_highlightResult" not in mention.raw and mention.raw["objectID"] == mention.native_id
    assert story.metrics.score == fake.item(story_id)["points"] and story.metrics.replies == 2
    assert comment.metrics.score is None and comment.metrics.replies is None


def test_story_text_is_the_title_then_the_text_or_the_link(fake: FakeHackerNews) -> None:
    fake.add(4)  # story (Ask HN), comment, reply, story (a link)
    posts = sorted((m for m in mentions(batches(fake)) if m.kind is Kind.POST), key=lambda m: m.created_at)
    ask, link = posts
    assert ask.text == (
        "Ask HN: Has anyone else had a Voltmart Voltbook battery swell? (1)\n\n"
        'Mine bulged after a week. Voltmart support says it\'s "within spec".\n\n'
        "Is there a way to escalate? Their page is https://voltmart.example/support/escalations/battery-claims"
    )
    assert link.text == (
        "Voltmart quietly shortens its return window to 14 days (4)\n\nhttps://news.example.com/voltmart-returns-4"
    )


def test_comment_html_becomes_plain_text(fake: FakeHackerNews) -> None:
    story_id, comment_id = fake.add(2)
    (comment,) = [m for m in mentions(batches(fake)) if m.native_id == comment_id]
    assert comment.text == (
        'Same here: Voltmart told me the swelling > 2mm is "normal".\n\n'
        "I'm filing a chargeback instead.\n\n"
        f"Edit: see https://news.ycombinator.com/item?id={story_id}"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("a &amp; b &lt;c&gt; &#x27;d&#x27; &quot;e&quot; &#x2F;f", "a & b <c> 'd' \"e\" /f"),
        ("one<p>two<p>three", "one\n\ntwo\n\nthree"),
        (
            'see <a href="https://x.example/long/path" rel="nofollow">https://x.example/lo...</a>.',
            "see https://x.example/long/path.",
        ),
        ('<a href="https://x.example/">the docs</a>', "the docs"),
        ("code:<p><pre><code>  if x:\n    y()\n</code></pre>after", "code:\n\n  if x:\n    y()\n\nafter"),
        ("<i>spaced</i>   out\n text", "spaced out text"),
        ('unclosed <a href="https://x.example/a">https://x.example/a', "unclosed https://x.example/a"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_timestamps_are_utc_in_either_of_hn_searchs_formats(fake: FakeHackerNews) -> None:
    first, second = fake.add(2)
    fake.item(first)["created_at"] = "2026-01-08T12:01:00.000Z"  # the format before 2023
    assert fake.item(second)["created_at"] == "2026-01-08T12:02:00Z"
    by_id = {m.native_id: m for m in mentions(batches(fake))}
    for native_id in (first, second):
        created = by_id[native_id].created_at
        assert created.utcoffset() == timedelta(0)
        assert created == datetime.fromtimestamp(fake.item(native_id)["created_at_i"], UTC)
    assert by_id[first].created_at == datetime(2026, 1, 8, 12, 1, tzinfo=UTC)


def test_every_request_is_page_zero_of_a_narrowing_window(fake: FakeHackerNews) -> None:
    ids = fake.add(7)
    state = final_state(batches(fake))
    requests = fake.data_requests
    assert [r.query["page"] for r in requests] == ["0", "0", "0"]
    assert {r.query["tags"] for r in requests} == {"(story,comment)"} and requests[0].query["query"] == "voltmart"
    assert "numericFilters" not in requests[0].query and requests[0].query["hitsPerPage"] == "3"
    # The second window ends at the oldest second of the first page, whose item is skipped: one more hit asked.
    oldest_first = fake.item(ids[4])["created_at_i"]
    assert requests[1].query["numericFilters"] == f"created_at_i<={oldest_first}"
    assert requests[1].query["hitsPerPage"] == "4"
    newest = fake.item(ids[-1])
    assert state == {"since": {"created_at_i": newest["created_at_i"], "ids": [ids[-1]]}}
    batches(fake, state)
    assert fake.data_requests[-1].query["numericFilters"] == f"created_at_i>={newest['created_at_i']}"


def test_a_window_that_fits_its_page_ends_the_scan_without_another_request(fake: FakeHackerNews) -> None:
    ids = fake.add(6)
    found = batches(fake)
    assert sorted(m.native_id for m in mentions(found)) == sorted(ids) and "in_progress" not in final_state(found)
    assert len(fake.data_requests) == 2  # 3 new, then 1 read + 3 new: nbHits says that was all


def test_more_than_algolias_1000_hit_limit_is_read_without_deep_pages(fake: FakeHackerNews) -> None:
    ids = fake.add(1050)
    found = batches(fake, hits_per_page=400)
    assert sorted(m.native_id for m in mentions(found)) == sorted(ids)
    assert {r.query["page"] for r in fake.data_requests} == {"0"} and len(fake.data_requests) == 3


def test_items_sharing_a_second_survive_a_limit_and_a_late_arrival(fake: FakeHackerNews) -> None:
    fake.add(2)
    fake.clock += timedelta(minutes=1)
    fake.step = timedelta(0)
    same_second = fake.add(7)  # seven items in one second: more than two pages of three
    stopped = batches(fake, limit=4)
    first = [m.native_id for m in mentions(stopped)]
    assert 4 <= len(first) < 9 and "in_progress" in final_state(stopped)
    rest = batches(fake, final_state(stopped))
    second = [m.native_id for m in mentions(rest)]
    assert sorted(first + second) == sorted(set(first + second)) and len(first + second) == 9
    state = final_state(rest)
    assert state["since"] == {"created_at_i": fake.item(same_second[0])["created_at_i"], "ids": same_second}
    late = fake.add(1)  # indexed after the run, in the very same second
    found = batches(fake, state)
    assert [m.native_id for m in mentions(found)] == late
    assert final_state(found)["since"]["ids"] == same_second + late
    assert mentions(batches(fake, final_state(found))) == []


def test_items_sharing_a_second_in_an_unstable_order_are_read_once(fake: FakeHackerNews) -> None:
    fake.add(2)
    fake.clock += timedelta(minutes=1)
    fake.step = timedelta(0)
    fake.add(7)
    fake.unstable_ties = True
    ids = [m.native_id for m in mentions(batches(fake))]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(fake.published)


def test_a_scan_resumes_after_a_failure_without_loss_or_repeats(fake: FakeHackerNews) -> None:
    ids = fake.add(7)
    fake.fail("server_error", after=1, times=5)
    kept: list[FetchedBatch] = []
    with pytest.raises(ConnectorError):
        for batch in connector(fake).fetch("voltmart", None):
            kept.append(batch)
    (batch,) = kept
    assert "since" not in batch.state and batch.state["in_progress"]["newest"]["ids"] == [ids[-1]]
    fake.clear_faults()
    newer = fake.add(2)  # published while the scan was interrupted: the next scan's business
    rest = batches(fake, final_state(kept))
    assert sorted(m.native_id for m in mentions(kept + rest)) == sorted(ids)
    assert final_state(rest)["since"]["ids"] == [ids[-1]]
    assert sorted(m.native_id for m in mentions(batches(fake, final_state(rest)))) == sorted(newer)


def test_an_edited_comment_keeps_its_id_with_the_new_text(fake: FakeHackerNews) -> None:
    _, comment_id = fake.add(2)
    before = {m.native_id: m for m in mentions(batches(fake))}[comment_id]
    fake.edit(comment_id, "Update: Voltmart replaced the battery.<p>Thanks, whoever escalated it.")
    after = {m.native_id: m for m in mentions(batches(fake))}[comment_id]
    assert after.native_id == before.native_id and after.created_at == before.created_at
    assert after.text == "Update: Voltmart replaced the battery.\n\nThanks, whoever escalated it."
    assert after.raw["updated_at"] != before.raw["updated_at"]


def test_tags_are_passed_to_hn_search(fake: FakeHackerNews) -> None:
    fake.add(6)
    stories = mentions(batches(fake, tags="story"))
    assert len(stories) == 2 and {m.kind for m in stories} == {Kind.POST}
    own = mentions(batches(fake, tags="(story, comment),author_dan_okafor"))
    assert own and {m.author.handle for m in own} == {"dan_okafor"}
    assert fake.data_requests[-1].query["tags"] == "(story,comment),author_dan_okafor"


def test_unreadable_items_are_reported_and_skipped(fake: FakeHackerNews) -> None:
    story_id, comment_id, reply_id = fake.add(3)
    del fake.item(comment_id)["author"]
    fake.item(reply_id)["created_at"] = "yesterday-ish"
    found = batches(fake)
    assert [m.native_id for m in mentions(found)] == [story_id]
    problems = [p for b in found for p in b.problems]
    assert sorted(p.split(":")[1] for p in problems) == sorted([comment_id, reply_id])
    assert all(p.startswith("hackernews:") for p in problems)
    assert mentions(batches(fake, final_state(found))) == []  # read, reported once, not again


def test_a_page_outside_the_window_asked_for_is_a_bad_response(fake: FakeHackerNews) -> None:
    fake.add(7)
    fake.fail("repeat_page", after=1)
    with pytest.raises(BadResponse, match="outside the created_at_i window"):
        batches(fake)


def test_a_page_that_does_not_move_the_window_is_a_bad_response(fake: FakeHackerNews) -> None:
    fake.step = timedelta(0)
    fake.add(5)
    fake.hits_cap = 3  # a proxy that ignores the larger pages asked for to skip the items already read
    stopped: list[FetchedBatch] = []
    with pytest.raises(BadResponse, match="the same page again"):
        for batch in connector(fake).fetch("voltmart", None):
            stopped.append(batch)
    assert len(fake.data_requests) == 2 and len(mentions(stopped)) == 3


def test_backfill_days_sets_how_far_back_the_first_run_reads(fake: FakeHackerNews) -> None:
    old, recent = fake.add(2)
    now = int(time.time())
    fake.item(old)["created_at_i"] = now - 10 * 86_400
    fake.item(recent)["created_at_i"] = now - 86_400
    found = batches(fake, backfill_days=3)
    assert [m.native_id for m in mentions(found)] == [recent]
    assert final_state(found)["since"] == {"created_at_i": now - 86_400, "ids": [recent]}
    floor = fake.data_requests[0].query["numericFilters"]
    assert floor.startswith("created_at_i>=") and abs(int(floor.split(">=")[1]) - (now - 3 * 86_400)) <= 5
    assert [m.native_id for m in mentions(batches(fake))] == [recent, old]  # without it: everything


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"tags": ""}, r"options\.tags"),
        ({"tags": "(story,comment"}, r"options\.tags"),
        ({"hits_per_page": 0}, r"options\.hits_per_page.*1 to 1000"),
        ({"hits_per_page": 1001}, r"options\.hits_per_page"),
        ({"hits_per_page": "many"}, r"options\.hits_per_page"),
        ({"backfill_days": -1}, r"options\.backfill_days"),
        ({"timeout_seconds": 0}, r"options\.timeout_seconds"),
        ({"timeout_seconds": "soon"}, r"options\.timeout_seconds"),
        ({"page_size": 10}, r"unknown options \['page_size'\]"),
        ({"retry": {"attempts": 3}}, r"options\.retry"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], complaint: str) -> None:
    settings = SourceSettings(name="hn", query="voltmart", options=options)
    with pytest.raises(ConnectorError, match=complaint) as failure:
        HackerNewsConnector(settings)
    assert "retry" in options or "'hn'" in str(failure.value)


def test_a_query_is_required(fake: FakeHackerNews) -> None:
    with pytest.raises(ConnectorError, match="needs a query"):
        list(HackerNewsConnector(SourceSettings(name="hn", base_url=fake.url)).fetch("", None))
    assert fake.data_requests == []


def test_a_429_without_retry_after_waits_a_minute(fake: FakeHackerNews) -> None:
    fake.add(2)
    fake.advertise_retry_after = False  # as HN Search itself answers
    fake.fail("rate_limit")
    with pytest.raises(RateLimited) as limited:
        batches(fake)
    assert limited.value.retry_after_seconds == RATE_LIMIT_WAIT_SECONDS
    assert "Too many requests" in str(limited.value)


def test_a_refusal_says_no_credentials_are_involved(fake: FakeHackerNews) -> None:
    fake.add(1)
    fake.fail("unauthorized")
    with pytest.raises(AuthenticationFailed, match="needs no credentials") as refused:
        batches(fake)
    assert "HTTP 403" in str(refused.value)


def test_an_algolia_400_is_fatal_and_quoted(fake: FakeHackerNews) -> None:
    fake.add(1)
    sleeps: list[float] = []
    settings = SourceSettings(name="hn", query="voltmart", base_url=fake.url, options={"tags": "(story,(comment))"})
    with pytest.raises(ConnectorError, match=r"HTTP 400.*nested parentheses") as failure:
        list(HackerNewsConnector(settings, retry=RetryPolicy(sleep=sleeps.append)).fetch("voltmart", None))
    assert type(failure.value) is ConnectorError and sleeps == []


runner = CliRunner()


def test_reputation_fetch_hackernews_prints_mentions(fake: FakeHackerNews) -> None:
    fake.add(6)
    result = runner.invoke(
        app, ["fetch", "hackernews", "--query", "voltmart", "--base-url", fake.url, "--option", "tags=story"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and all(line["platform"] == "hackernews" and line["kind"] == "post" for line in lines)
    assert lines[0]["url"].startswith("https://news.ycombinator.com/item?id=")
    assert fake.data_requests[0].query["tags"] == "story"
