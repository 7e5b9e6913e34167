"""The RSS/Atom connector: the contract suite on an Atom and on a WordPress RSS 2.0 feed, then what is particular."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.errors import BadResponse, ConnectorError, RateLimited, Transient
from connectors.html import html_to_text
from connectors.retry import RetryPolicy
from connectors.rss import RssConnector
from connectors.testing import ConnectorContract, Reply, Request
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import FetchedBatch, Kind, Mention
from tests.fakes.rss import ATOM_PATH, FEED_AUTHOR, RSS_PATH, START, FakeFeeds, FakeRss2Feeds


class TestAtomContract(
    ConnectorContract, connector=RssConnector, fake=FakeFeeds, options={"feeds": [ATOM_PATH]}, query=""
): ...


class TestRss2Contract(
    ConnectorContract, connector=RssConnector, fake=FakeRss2Feeds, options={"feeds": [RSS_PATH]}, query=""
): ...


@pytest.fixture
def fake() -> Iterator[FakeFeeds]:
    running = FakeFeeds()
    with running:
        yield running


def connector(fake: FakeFeeds, *feeds: str, limit: int | None = None, **options: Any) -> RssConnector:
    settings = SourceSettings(
        name="feeds", base_url=fake.url, limit=limit, options={"feeds": list(feeds or [ATOM_PATH]), **options}
    )
    return RssConnector(settings, retry=RetryPolicy(max_attempts=1))


def collect(batches: Iterator[FetchedBatch]) -> tuple[list[Mention], list[str], dict[str, Any] | None]:
    taken = list(batches)
    mentions = [m for b in taken for m in b.mentions]
    return mentions, [p for b in taken for p in b.problems], taken[-1].state if taken else None


def fetch(
    fake: FakeFeeds, *feeds: str, state: dict[str, Any] | None = None, limit: int | None = None, **options: Any
) -> tuple[list[Mention], list[str], dict[str, Any] | None]:
    return collect(connector(fake, *feeds, limit=limit, **options).fetch("", state))


def until_failure(batches: Iterator[FetchedBatch]) -> tuple[list[FetchedBatch], ConnectorError | None]:
    taken: list[FetchedBatch] = []
    try:
        for batch in batches:
            taken.append(batch)
    except ConnectorError as error:
        return taken, error
    return taken, None


def test_atom_entries_become_posts_with_plain_text(fake: FakeFeeds) -> None:
    fake.add(2)
    post = fake.posts[-1]
    mentions, problems, _ = fetch(fake)
    assert problems == []
    mention = {m.native_id: m for m in mentions}[f"tag:blog.voltfans.example,2026-01-08:/posts/{post['serial']}"]
    assert mention.kind is Kind.POST and mention.parent_id is None and mention.root_id is None
    assert mention.url == f"https://blog.voltfans.example/2026/01/08/{post['slug']}.html"
    assert mention.text == (
        "Voltmart & the swollen Voltbook battery, part 2\n\n"
        "Three weeks after the recall notice, Voltmart support still has not answered.\n\n"
        "Read the whole thread & weigh in."
    )
    assert mention.author.handle == post["author"] and mention.author.id == f"127.0.0.1/{post['author']}"
    assert mention.language == "en"  # xml:lang="en-GB"
    assert mention.query == f"{fake.url}{ATOM_PATH}"
    assert mention.raw["id"] == mention.native_id and mention.raw["tags"] == [
        {"term": "batteries", "scheme": None, "label": None}
    ]
    assert not [key for key in mention.raw if key.endswith("_parsed")]
    json.dumps(mention.raw)


def test_wordpress_items_read_the_full_post_the_creator_and_the_comment_count(fake: FakeFeeds) -> None:
    fake.add(3)
    post = fake.posts[-1]
    mentions, problems, _ = fetch(fake, RSS_PATH)
    assert problems == [] and len(mentions) == 3
    mention = {m.native_id: m for m in mentions}[f"https://forum.batterytalk.example/?p={1000 + post['serial']}"]
    assert "[…]" not in mention.text and mention.text.endswith("Read the whole thread & weigh in.")
    assert mention.author.handle == post["author"] and mention.metrics.replies == post["comments"]
    assert mention.language == "en"  # <language>en-US</language>
    assert mention.url == f"https://forum.batterytalk.example/2026/01/08/{post['slug']}/"


def test_an_atom_entry_without_an_author_has_the_feeds(fake: FakeFeeds) -> None:
    fake.add(1)
    fake.posts[-1]["author"] = None
    (mention,), _, _ = fetch(fake)
    assert mention.author.handle == FEED_AUTHOR and mention.author.id == f"127.0.0.1/{FEED_AUTHOR}"


def test_html_becomes_readable_text() -> None:
    markup = (
        "<h2>Refund&nbsp;saga</h2><p>Day one:\n  <b>nothing</b>.<br>Day two: <i>nothing</i>.</p>"
        "<script>track()</script><style>p {}</style><ul><li>tickets: 4</li><li>answers: 0</li></ul>"
        "<p>Voltmart &amp; me &#8230; &lt;sigh&gt;</p>"
    )
    assert html_to_text(markup) == (
        "Refund saga\n\nDay one: nothing.\nDay two: nothing.\n\ntickets: 4\n\nanswers: 0\n\nVoltmart & me … <sigh>"
    )
    assert html_to_text("just   text") == "just text"


# Timestamps.


def test_times_in_any_zone_become_utc(fake: FakeFeeds) -> None:
    fake.add(2)
    expected = {START + timedelta(minutes=post["serial"]) for post in fake.posts}
    atom, _, _ = fetch(fake, ATOM_PATH)
    rss, _, _ = fetch(fake, RSS_PATH)
    assert all(m.raw["published"].endswith("+09:00") for m in atom)
    assert all(m.raw["published"].endswith("-0500") for m in rss)
    for mentions in (atom, rss):
        assert {m.created_at for m in mentions} == expected
        assert all(m.created_at.tzinfo is UTC for m in mentions)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2026-01-08 12:34:56", datetime(2026, 1, 8, 12, 34, 56, tzinfo=UTC)),  # no zone: read as UTC
        ("Thu, 08 Jan 2026 12:00:00 EST", datetime(2026, 1, 8, 17, 0, tzinfo=UTC)),
        ("2026-01-08T12:00:00.000+0530", datetime(2026, 1, 8, 6, 30, tzinfo=UTC)),  # feedparser's reading
    ],
)
def test_naive_and_odd_dates_are_read(fake: FakeFeeds, written: str, meant: datetime) -> None:
    fake.add(1)
    fake.posts[-1]["date_text"] = written
    (mention,), problems, _ = fetch(fake, RSS_PATH)
    assert problems == [] and mention.created_at == meant


def test_an_entry_without_any_date_gets_the_time_it_was_first_seen(fake: FakeFeeds) -> None:
    fake.add(1)
    fake.posts[-1]["date_text"] = ""
    before = datetime.now(UTC)
    (mention,), problems, _ = fetch(fake)
    assert problems == [] and before <= mention.created_at <= datetime.now(UTC)


def test_a_broken_entry_is_reported_and_the_others_kept(fake: FakeFeeds) -> None:
    fake.add(3)
    undated, empty = fake.posts[-1], fake.posts[-2]
    undated["date_text"] = "the day before yesterday"
    empty["title"], empty["html"] = "", ""
    mentions, problems, state = fetch(fake)
    assert [m.native_id for m in mentions] == [fake.native_id(fake.posts[0])]
    assert sorted(problems) == sorted(
        [
            f"rss:{fake.native_id(undated)}: ValueError: unreadable date: published 'the day before yesterday', "
            "updated 'the day before yesterday'",
            f"rss:{fake.native_id(empty)}: ValueError: the entry has neither a title nor any text",
        ]
    )
    assert fetch(fake, state=state)[:2] == ([], []), "a broken entry is reported once, not on every run"


# Ids.


def test_an_entry_in_two_feeds_of_a_site_is_one_mention_but_a_bare_guid_is_per_feed(fake: FakeFeeds) -> None:
    fake.flavour = "rss"
    fake.add(2)
    fake.posts[-1]["guid"] = "42"  # isPermaLink="false": unique only within its feed
    feeds = (RSS_PATH, f"{RSS_PATH}?cat=batteries")
    mentions, _, _ = fetch(fake, *feeds)
    ids = [m.native_id for m in mentions]
    assert ids.count(fake.native_id(fake.posts[0])) == 2  # a URI guid: the same mention whichever feed shows it
    bare = [native_id for native_id in ids if native_id.startswith("sha256:")]
    assert len(bare) == 2 and len(set(bare)) == 2
    assert sorted(m.native_id for m in fetch(fake, *feeds)[0]) == sorted(ids), "ids are stable"


def test_without_an_id_the_link_is_the_id_and_without_both_a_stable_hash(fake: FakeFeeds) -> None:
    fake.add(2)
    linked, bare = fake.posts[-1], fake.posts[-2]
    linked["atom_id"] = None
    bare["atom_id"], bare["link"] = None, None
    mentions, problems, _ = fetch(fake)
    ids = {m.native_id for m in mentions}
    assert problems == [] and f"https://blog.voltfans.example/2026/01/08/{linked['slug']}.html" in ids
    (hashed,) = [native_id for native_id in ids if native_id.startswith("sha256:")]
    assert hashed in {m.native_id for m in fetch(fake)[0]}
    assert {m.url for m in mentions if m.native_id == hashed} == {""}


def test_relative_links_resolve_against_the_feed(fake: FakeFeeds) -> None:
    fake.add(1)
    fake.posts[-1]["link"] = "/2026/01/08/relative.html"
    (mention,), _, _ = fetch(fake)
    assert mention.url == f"{fake.url}/2026/01/08/relative.html"


# The cursor: validators, seen entries, edits, paging.


@pytest.mark.parametrize("path", [ATOM_PATH, RSS_PATH])
def test_an_unchanged_feed_costs_one_conditional_request_answered_304(fake: FakeFeeds, path: str) -> None:
    fake.add(4)
    _, _, state = fetch(fake, path)
    assert state is not None
    saved = state["feeds"][f"{fake.url}{path}"]
    assert saved["etag"] and saved["last_modified"] and len(saved["seen"]) == 4
    before = len(fake.data_requests)
    assert fetch(fake, path, state=state) == ([], [], None)
    (request,) = fake.data_requests[before:]
    assert request.headers["if-none-match"] == saved["etag"]
    assert request.headers["if-modified-since"] == saved["last_modified"]
    assert "page" not in request.query and "paged" not in request.query


@pytest.mark.parametrize("path", [ATOM_PATH, RSS_PATH])
def test_an_edited_entry_comes_through_again(fake: FakeFeeds, path: str) -> None:
    fake.add(4)
    first, _, state = fetch(fake, path)
    fake.flavour = "atom" if path == ATOM_PATH else "rss"
    edited = fake.edit(-2, "<p>Update: Voltmart refunded me after all.</p>")
    again, problems, state = fetch(fake, path, state=state)
    assert problems == [] and [m.native_id for m in again] == [edited]
    assert again[0].text.endswith("Update: Voltmart refunded me after all.")
    assert {m.native_id: m.text for m in first}[edited] != again[0].text
    assert fetch(fake, path, state=state)[0] == []


def test_a_limit_resumes_where_it_stopped_though_new_posts_shift_the_pages(fake: FakeFeeds) -> None:
    fake.add(7)
    first, _, state = fetch(fake, limit=2)
    assert len(first) == 3 and state is not None
    assert state["feeds"][f"{fake.url}{ATOM_PATH}"]["in_progress"]["next"].endswith("?page=2")
    newer = fake.add(2)  # what was on page 1 moves down to page 2
    rest, _, state = fetch(fake, state=state)
    latest, _, _ = fetch(fake, state=state)
    ids = [m.native_id for m in first + rest + latest]
    assert sorted(ids) == sorted(fake.published) and len(ids) == len(set(ids)) == 9
    assert sorted(m.native_id for m in latest) == sorted(newer)


def test_max_pages_bounds_the_first_scan_and_a_later_gap_is_reported(fake: FakeFeeds) -> None:
    fake.add(7)
    first, problems, state = fetch(fake, max_pages=2)
    assert len(first) == 6 and problems == []  # the first scan reads as far back as max_pages allows
    fake.add(7)
    second, problems, _ = fetch(fake, state=state, max_pages=2)
    assert len(second) == 6
    assert len(problems) == 1 and "options.max_pages=2" in problems[0] and "missed" in problems[0]


def test_a_next_link_to_another_host_is_not_followed(fake: FakeFeeds, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add(4)
    original = fake.respond

    def elsewhere(request: Request, fault: str | None) -> Reply:
        reply = original(request, fault)
        reply.body = reply.body.replace(b'href="/blog/feed.atom?page=2"', b'href="https://elsewhere.example/feed"')
        return reply

    monkeypatch.setattr(fake, "respond", elsewhere)
    mentions, problems, _ = fetch(fake)
    assert len(mentions) == 3 and len(fake.data_requests) == 1
    assert problems == ["rss:feed 1 (127.0.0.1): did not follow a next link to another host or scheme"]


# Several feeds in one source.


def test_one_failing_feed_does_not_stop_the_others(fake: FakeFeeds) -> None:
    fake.add(4)
    fake.fail("server_error")
    batches, error = until_failure(connector(fake, ATOM_PATH, RSS_PATH).fetch("", None))
    assert isinstance(error, Transient) and "RSS feed 1 (127.0.0.1) is failing" in str(error)
    mentions = [m for b in batches for m in b.mentions]
    assert len(mentions) == 4 and all(m.query == f"{fake.url}{RSS_PATH}" for m in mentions)
    assert list(batches[-1].state["feeds"]) == [f"{fake.url}{RSS_PATH}"]


def test_a_rate_limited_host_is_left_alone_for_the_rest_of_the_run(fake: FakeFeeds) -> None:
    fake.add(4)
    fake.fail("rate_limit")
    batches, error = until_failure(connector(fake, ATOM_PATH, RSS_PATH).fetch("", None))
    assert isinstance(error, RateLimited) and error.retry_after_seconds == fake.retry_after_seconds
    assert batches == [] and len(fake.data_requests) == 1


def test_a_limit_makes_the_next_run_start_at_the_next_feed(fake: FakeFeeds) -> None:
    fake.add(7)
    _, _, state = fetch(fake, ATOM_PATH, RSS_PATH, limit=2)
    assert state is not None and state["next_feed"] == f"{fake.url}{RSS_PATH}"
    before = len(fake.data_requests)
    fetch(fake, ATOM_PATH, RSS_PATH, state=state, limit=2)
    assert fake.data_requests[before].path == RSS_PATH


def test_feeds_no_longer_configured_leave_the_state(fake: FakeFeeds) -> None:
    fake.add(2)
    _, _, state = fetch(fake, ATOM_PATH, RSS_PATH)
    assert state is not None and len(state["feeds"]) == 2
    fake.add(1)
    _, _, state = fetch(fake, RSS_PATH, state=state)
    assert state is not None and list(state["feeds"]) == [f"{fake.url}{RSS_PATH}"]


# Hostile answers.


def test_a_body_over_max_bytes_is_refused(fake: FakeFeeds) -> None:
    fake.add(7)
    with pytest.raises(BadResponse, match=r"more than options\.max_bytes=2000 bytes"):
        fetch(fake, max_bytes=2000)


def test_a_small_gzip_that_inflates_past_max_bytes_is_refused(fake: FakeFeeds, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = gzip.compress(b'<rss version="2.0"><channel>' + b" " * 200_000 + b"</channel></rss>")
    assert len(bomb) < 50_000
    reply = Reply(200, bomb, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
    monkeypatch.setattr(fake, "respond", lambda request, fault: reply)
    with pytest.raises(BadResponse, match="max_bytes=50000"):
        fetch(fake, max_bytes=50_000)


def test_feedparser_never_opens_a_body_as_a_local_file(
    fake: FakeFeeds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "secret-feed.xml"
    local.write_text('<rss version="2.0"><channel><item><title>Voltmart local file</title></item></channel></rss>')
    reply = Reply(200, str(local).encode(), {"Content-Type": "text/plain"})
    monkeypatch.setattr(fake, "respond", lambda request, fault: reply)
    with pytest.raises(BadResponse, match=r"not an RSS or Atom feed \(text/plain\)"):
        fetch(fake)


# Options.


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"feeds": [ATOM_PATH], "max_pages": 0}, r"options\.max_pages must be a whole number above 0"),
        ({"feeds": [ATOM_PATH], "max_bytes": "10MB"}, r"options\.max_bytes must be a whole number"),
        ({"feeds": [ATOM_PATH], "timeout_seconds": -1}, r"options\.timeout_seconds must be a number above 0"),
        ({"feeds": [ATOM_PATH], "max_pages": True}, r"options\.max_pages"),
        ({"feeds": [5]}, r"options\.feeds must be a list of feed URLs"),
        ({"feed": [ATOM_PATH]}, r"unknown options \['feed'\]"),
        ({"feeds": ["ftp://example.com/feed"]}, r"options\.feeds\[0\] 'ftp://example\.com/feed' is not an http"),
    ],
)
def test_bad_options_are_named(fake: FakeFeeds, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message) as failure:
        RssConnector(SourceSettings(name="feeds", base_url=fake.url, options=options))
    assert "source 'feeds'" in str(failure.value)


def test_relative_feeds_need_a_base_url_and_a_query_must_be_a_feed_url() -> None:
    with pytest.raises(ConnectorError, match=r"options\.feeds\[0\] '/feed' .*needs base_url"):
        RssConnector(SourceSettings(name="feeds", options={"feeds": ["/feed"]}))
    with pytest.raises(ConnectorError, match=r"query 'voltmart' is not an http\(s\) feed URL"):
        RssConnector(SourceSettings(name="feeds", query="voltmart"))
    with pytest.raises(ConnectorError, match=r"list the feed URLs in options\.feeds"):
        list(RssConnector(SourceSettings(name="feeds")).fetch("", None))


def test_a_private_feeds_token_stays_out_of_messages(fake: FakeFeeds) -> None:
    fake.fail("unauthorized")
    feed = f"{ATOM_PATH}?token=s3cr3t-feed-token"
    _, error = until_failure(connector(fake, feed).fetch("", None))
    assert error is not None and "401" in str(error) and "s3cr3t" not in str(error)
    with pytest.raises(ConnectorError) as failure:
        RssConnector(SourceSettings(name="feeds", options={"feeds": ["gopher://x/feed?token=s3cr3t"]}))
    assert "s3cr3t" not in str(failure.value)


# The command line.

runner = CliRunner()


def test_reputation_fetch_rss_reads_the_feed_given_as_query(fake: FakeFeeds) -> None:
    fake.add(5)
    result = runner.invoke(app, ["fetch", "rss", "--query", f"{fake.url}{ATOM_PATH}"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["native_id"] for line in lines] == list(reversed(fake.published))
    assert all(line["platform"] == "rss" and line["kind"] == "post" for line in lines)


def test_reputation_fetch_rss_takes_feeds_as_an_option(fake: FakeFeeds) -> None:
    fake.add(5)
    result = runner.invoke(
        app, ["fetch", "rss", "--base-url", fake.url, "--option", f"feeds=[{RSS_PATH}]", "--limit", "4"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and all(line["native_id"].startswith("https://forum.batterytalk.example/") for line in lines)


# Which body: feedparser files itunes:summary and Media RSS descriptions among an
# entry's contents, before or after content:encoded, as they come in the document.
PODCAST_AND_NEWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:m="http://search.yahoo.com/mrss/">
<channel><title>Voltcast</title><link>https://voltcast.example/</link>
<item><title>Episode 12</title><guid>https://voltcast.example/12</guid>
  <pubDate>Thu, 08 Jan 2026 12:00:00 GMT</pubDate><description></description>
  <itunes:summary>A short summary of the episode.</itunes:summary>
  <content:encoded><![CDATA[<p>{"The full show notes about the Voltmart refund saga. " * 40}</p>]]></content:encoded>
</item>
<item><title>Storm closes stores</title><guid>https://news.example/storm</guid>
  <pubDate>Thu, 08 Jan 2026 13:00:00 GMT</pubDate>
  <description>Voltmart closed forty stores on Thursday as the storm reached the coast.</description>
  <m:content url="https://news.example/storm.jpg" medium="image">
    <m:description>A Voltmart store under water in Mobile, Alabama, on Thursday. (AP Photo)</m:description>
  </m:content>
</item>
<item><title>Summary only</title><guid>https://voltcast.example/13</guid>
  <pubDate>Thu, 08 Jan 2026 14:00:00 GMT</pubDate><description></description>
  <itunes:summary>Only an itunes summary here.</itunes:summary>
</item>
</channel></rss>"""


def test_the_fullest_body_wins_and_a_media_caption_never_does(fake: FakeFeeds) -> None:
    fake.play(Reply(200, PODCAST_AND_NEWS.encode(), {"Content-Type": "application/rss+xml"}))
    mentions, problems, _ = fetch(fake, RSS_PATH)
    texts = {m.native_id: m.text for m in mentions}
    assert problems == [] and len(texts) == 3
    notes = texts["https://voltcast.example/12"]
    assert notes.startswith("Episode 12\n\nThe full show notes") and len(notes) > 2000
    assert "short summary" not in notes
    assert texts["https://news.example/storm"] == (
        "Storm closes stores\n\nVoltmart closed forty stores on Thursday as the storm reached the coast."
    )
    assert texts["https://voltcast.example/13"] == "Summary only\n\nOnly an itunes summary here."
