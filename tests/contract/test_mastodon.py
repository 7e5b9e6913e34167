"""The Mastodon connector: the contract suite for each listing, then what is particular to Mastodon."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError
from connectors.html import html_to_text
from connectors.mastodon import MastodonConnector
from connectors.retry import RetryPolicy
from connectors.testing import BRAND, ConnectorContract
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import FetchedBatch, Kind, Mention
from tests.fakes.mastodon import ACCOUNTS, DOMAIN, INSTANCE, FakeMastodon

SEARCH = {"instance": INSTANCE}
HASHTAGS = {"instance": INSTANCE, "search": False, "hashtags": ["voltmart"]}


class TestMastodonSearchContract(ConnectorContract, connector=MastodonConnector, fake=FakeMastodon, options=SEARCH): ...


class TestMastodonHashtagContract(
    ConnectorContract, connector=MastodonConnector, fake=FakeMastodon, options=HASHTAGS
): ...


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as running:
        yield running


def connector(fake: FakeMastodon, *, env: dict[str, str] | None = None, **options: Any) -> MastodonConnector:
    settings = SourceSettings(
        name="toots",
        query="voltmart",
        base_url=fake.url,
        options={"instance": INSTANCE, **options},
        env=fake.env if env is None else env,
    )
    return MastodonConnector(settings, retry=RetryPolicy(max_attempts=1))


def batches(fake: FakeMastodon, state: dict[str, Any] | None = None, **options: Any) -> list[FetchedBatch]:
    return list(connector(fake, **options).fetch("voltmart", state))


def mentions(fake: FakeMastodon, **options: Any) -> list[Mention]:
    return [m for b in batches(fake, **options) for m in b.mentions]


def test_requests_are_mastodons_own(fake: FakeMastodon) -> None:
    older, _ = fake.add(2)
    mentions(fake, hashtags=["#Voltmart"])
    search, search_more, tag, tag_more = fake.data_requests
    assert search.path == search_more.path == "/api/v2/search"
    assert search.query == {"q": "voltmart", "type": "statuses", "limit": "40"}  # no resolve: no WebFinger lookups
    assert search_more.query == {**search.query, "offset": "2"}  # the scan ends on an empty page
    assert tag.path == tag_more.path == "/api/v1/timelines/tag/Voltmart"
    assert tag.query == {"limit": "40"} and tag_more.query == {"limit": "40", "max_id": older.split(":")[1]}
    for request in fake.data_requests:
        assert request.headers["authorization"] == f"Bearer {fake.access_token}"
        assert request.headers["user-agent"].startswith("reputation-monitor/")
    # Mastodon.py's only other request: the server's description, once, before the first timeline.
    assert fake.instance_requests == 1 and len(fake.requests) == 5


def test_replies_and_quotes_point_at_their_parents_in_the_servers_ids(fake: FakeMastodon) -> None:
    root_id, reply_id, quote_id, nested_id = fake.add(4)
    by_id = {m.native_id: m for m in mentions(fake)}
    root, reply, quote, nested = (by_id[i] for i in (root_id, reply_id, quote_id, nested_id))
    assert root_id.startswith(f"{DOMAIN}:") and root_id.removeprefix(f"{DOMAIN}:").isdigit()
    assert (root.kind, root.parent_id, root.root_id) == (Kind.POST, None, None)
    assert (reply.kind, reply.parent_id, reply.root_id) == (Kind.REPLY, root_id, None)
    assert (quote.kind, quote.parent_id) == (Kind.QUOTE, root_id)
    assert (nested.kind, nested.parent_id) == (Kind.REPLY, reply_id)  # the spread step walks up to the root


def test_fields_are_mapped_from_the_status(fake: FakeMastodon) -> None:
    (root_id,) = fake.add(1)
    status = fake.find(root_id)
    (root,) = mentions(fake)
    dan = ACCOUNTS[1]
    assert root.author.id == f"{DOMAIN}:{dan['id']}" and root.author.handle == "dan@fosstodon.org"
    assert root.author.followers == dan["followers_count"]
    assert root.url == status["url"] and root.url.startswith("https://fosstodon.org/@dan/")  # its home server
    assert root.text == (
        "#Voltmart my Voltbook battery swelled after a week and support hung up on me & closed the ticket (1)\n\n"
        "Receipt: https://voltmart.example/orders/58213/receipt"
    )
    assert root.metrics.likes == status["favourites_count"] and root.metrics.reshares == status["reblogs_count"]
    assert root.metrics.replies == status["replies_count"] and root.language == "en" and root.query == "voltmart"
    assert root.raw == status  # as the server sent it, created_at string and all
    json.dumps(root.to_json_dict())


def test_local_handles_get_the_servers_domain_and_quote_posts_lose_their_fallback_line(fake: FakeMastodon) -> None:
    _, reply_id, quote_id = fake.add(3)
    by_id = {m.native_id: m for m in mentions(fake)}
    assert by_id[reply_id].author.handle == f"gadgetdesk@{DOMAIN}"
    assert by_id[reply_id].text == "@dan same here, Voltmart ignored me for weeks #voltmart"
    assert by_id[quote_id].text == "Voltmart really needs to answer this one #voltmart"
    assert "RE:" in fake.find(quote_id)["content"]


def test_a_boost_is_a_reshare_of_the_boosted_status_with_its_words(fake: FakeMastodon) -> None:
    (root_id,) = fake.add(1)
    original = fake.find(root_id)
    booster = ACCOUNTS[0]
    boost = fake.status(booster, "", reblog=original, url=None, language=None, favourites_count=0)
    boost["uri"] = f"{INSTANCE}/users/{booster['username']}/statuses/{boost['id']}/activity"
    boost_id = fake.post(boost)
    # Mastodon's listings leave boosts out; one that lists them gets them mapped.
    (reshare,) = [m for m in mentions(fake, search=False, hashtags=["voltmart"]) if m.native_id == boost_id]
    assert (reshare.kind, reshare.parent_id, reshare.root_id) == (Kind.RESHARE, root_id, None)
    assert reshare.author.handle == f"maya_builds@{DOMAIN}" and reshare.text.startswith("#Voltmart my Voltbook")
    assert reshare.url == original["url"] and reshare.language == "en" and reshare.metrics.likes == 0


def test_quotes_not_shown_and_shallow_quotes(fake: FakeMastodon) -> None:
    (root_id,) = fake.add(1)
    author = ACCOUNTS[2]
    pending = fake.post(
        fake.status(author, f"<p>Voltmart? {root_id}</p>", quote={"state": "pending", "quoted_status": None})
    )
    shallow_quote = {"state": "accepted", "quoted_status_id": root_id.split(":")[1]}
    shallow = fake.post(fake.status(author, "<p>Voltmart again</p>", quote=shallow_quote))
    by_id = {m.native_id: m for m in mentions(fake)}
    assert (by_id[pending].kind, by_id[pending].parent_id) == (Kind.QUOTE, None)
    assert (by_id[shallow].kind, by_id[shallow].parent_id) == (Kind.QUOTE, root_id)


def test_times_are_utc_whatever_the_server_sends(fake: FakeMastodon) -> None:
    author = ACCOUNTS[0]
    zulu = fake.post(fake.status(author, "<p>Voltmart z</p>", created_at="2026-01-08T12:00:00.417Z"))
    offset = fake.post(fake.status(author, "<p>Voltmart tokyo</p>", created_at="2026-01-08T21:30:00.000+09:00"))
    naive = fake.post(fake.status(author, "<p>Voltmart naive</p>", created_at="2026-01-08T13:00:00"))
    by_id = {m.native_id: m for m in mentions(fake)}
    assert by_id[zulu].created_at == datetime(2026, 1, 8, 12, 0, 0, 417000, tzinfo=UTC)
    assert by_id[offset].created_at == datetime(2026, 1, 8, 12, 30, tzinfo=UTC)
    assert by_id[naive].created_at == datetime(2026, 1, 8, 13, 0, tzinfo=UTC)
    for mention in by_id.values():
        assert mention.created_at.tzinfo is UTC
        assert mention.to_json_dict()["created_at"].endswith("Z")


def test_broken_statuses_are_reported_and_skipped(fake: FakeMastodon) -> None:
    good_id, bad_date_id = fake.add(2)
    fake.find(bad_date_id)["created_at"] = "yesterday-ish"
    odd = fake.status(ACCOUNTS[0], "<p>Voltmart</p>")
    odd["id"] = "9zQ4bX1cA0"  # not a Mastodon id: Pleroma-style
    fake.post(odd)
    found = batches(fake)
    assert [m.native_id for b in found for m in b.mentions] == [good_id]
    problems = [p for b in found for p in b.problems]
    assert len(problems) == 2
    assert any(p.startswith(f"mastodon:{bad_date_id}: ValueError") for p in problems)
    assert any(p.startswith(f"mastodon:{DOMAIN}:9zQ4bX1cA0:") for p in problems)


def test_a_last_page_of_broken_statuses_is_still_reported(fake: FakeMastodon) -> None:
    fake.add(1)
    state = batches(fake)[-1].state
    odd = fake.status(ACCOUNTS[0], "<p>Voltmart</p>")
    odd["id"] = "9zQ4bX1cA1"
    fake.post(odd)
    found = batches(fake, state)
    assert [m for b in found for m in b.mentions] == [] and found[-1].state == state
    assert [p for b in found for p in b.problems] == [f"mastodon:{DOMAIN}:9zQ4bX1cA1: not a Mastodon status id"]


def test_edits_keep_the_native_id_and_bring_the_new_text(fake: FakeMastodon) -> None:
    (status_id,) = fake.add(1)
    (before,) = mentions(fake)
    fake.edit(status_id, "<p>Update: Voltmart replaced the battery, thanks!</p>")
    (after,) = mentions(fake)
    assert after.native_id == before.native_id == status_id
    assert after.text == "Update: Voltmart replaced the battery, thanks!" and after.text != before.text
    assert after.raw["edited_at"] is not None


def test_search_and_hashtags_keep_their_own_cursors_and_share_nothing_twice(fake: FakeMastodon) -> None:
    ids = fake.add(5)
    fake.post(fake.status(ACCOUNTS[0], "<p>only tagged, no brand word</p>"))
    first = batches(fake, hashtags=["voltmart"])
    found = [m.native_id for b in first for m in b.mentions]
    assert len(found) == len(set(found)) == 6 and set(ids) < set(found)
    state = first[-1].state
    newest = max(ids + found, key=lambda i: int(i.split(":")[1])).split(":")[1]
    assert state == {"search": {"since_id": ids[-1].split(":")[1]}, "#voltmart": {"since_id": newest}}
    assert batches(fake, state, hashtags=["voltmart"]) == []
    new = fake.add(2)
    again = [m for b in batches(fake, json.loads(json.dumps(state)), hashtags=["voltmart"]) for m in b.mentions]
    assert sorted(m.native_id for m in again) == sorted(new)
    assert {m.query for m in again} == {"voltmart"}  # found by the search first


def test_hashtag_only_sources_need_no_query(fake: FakeMastodon) -> None:
    fake.add(4)
    settings = SourceSettings(name="tags", base_url=fake.url, options=HASHTAGS, env=fake.env)
    found = [m for b in MastodonConnector(settings).fetch("", None) for m in b.mentions]
    assert len(found) == 4 and {m.query for m in found} == {"#voltmart"} and {m.kind for m in found} > {Kind.POST}
    assert [m for b in connector(fake).fetch("#voltmart", None) for m in b.mentions] == []  # Mastodon's rule
    searching = SourceSettings(name="toots", base_url=fake.url, options=SEARCH, env=fake.env)
    with pytest.raises(ConnectorError, match="needs a query"):
        list(MastodonConnector(searching).fetch("", None))


def test_a_short_search_page_is_not_the_end(fake: FakeMastodon) -> None:
    ids = fake.add(7)
    fake.hidden.add(ids[-2].split(":")[1])  # a hit Mastodon counts, then leaves out (a muted account's, say)
    found = [m.native_id for m in mentions(fake)]
    assert sorted(found) == sorted(ids[:5] + ids[6:]) and len(found) == len(set(found))
    # 2 of 3 on the first page; the next one overlaps it by one, and the overlap is dropped.
    assert [r.query.get("offset") for r in fake.data_requests] == [None, "2", "5", "7"]


def test_a_server_that_ignores_the_offset_is_stopped(fake: FakeMastodon) -> None:
    fake.add(7)
    fake.fail("repeat_page", after=1)
    result = list_until_error(connector(fake))
    assert isinstance(result[1], BadResponse) and "same page" in str(result[1])
    assert len(result[0]) == 3 and len(fake.data_requests) == 2


def list_until_error(source: MastodonConnector) -> tuple[list[Mention], ConnectorError | None]:
    found: list[Mention] = []
    try:
        for batch in source.fetch("voltmart", None):
            found.extend(batch.mentions)
    except ConnectorError as error:
        return found, error
    return found, None


def test_a_public_hashtag_timeline_ignores_a_wrong_token_as_mastodon_does(fake: FakeMastodon) -> None:
    fake.add(3)
    fake.hashtag_feeds = "public"
    wrong = {"MASTODON_ACCESS_TOKEN": "not-the-token-at-all"}
    assert len(mentions_with(fake, wrong, search=False, hashtags=["voltmart"])) == 3
    with pytest.raises(AuthenticationFailed, match="The access token is invalid"):
        mentions_with(fake, wrong)


def mentions_with(fake: FakeMastodon, env: dict[str, str], **options: Any) -> list[Mention]:
    return [m for b in connector(fake, env=env, **options).fetch("voltmart", None) for m in b.mentions]


def test_the_rate_limit_wait_comes_from_mastodons_iso_reset_header(fake: FakeMastodon) -> None:
    fake.add(1)
    fake.retry_after_seconds = 42
    fake.fail("rate_limit")
    found, error = list_until_error(connector(fake))
    assert found == [] and error is not None and "rate limit" in str(error)
    assert 41 <= error.retry_after_seconds <= 43  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"instance": "http://mastodon.social"}, "options.instance must be the https URL"),
        ({"instance": "https://mastodon.social/@maya"}, "options.instance must be the https URL"),
        ({"hashtags": ["volt mart"]}, "'volt mart' is not a hashtag"),
        ({"hashtags": {"voltmart": 1}}, "options.hashtags must be a list"),
        ({"search": "yes"}, "options.search must be true or false"),
        ({"search": False}, "options.hashtags is empty"),
        ({"page_size": 41}, "options.page_size must be a whole number from 1 to 40"),
        ({"page_size": True}, "options.page_size"),
        ({"timeout_seconds": 0}, "options.timeout_seconds"),
        ({"retry": {"attempts": 3}}, "options.retry"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    settings = SourceSettings(
        name="toots", options={"instance": INSTANCE, **options}, env={"MASTODON_ACCESS_TOKEN": "t0ken"}
    )
    with pytest.raises(ConnectorError, match=re.escape(message)) as failure:
        MastodonConnector(settings)
    assert "source 'toots'" in str(failure.value) or "options.retry" in str(failure.value)


def test_the_instance_is_required_and_names_the_ids() -> None:
    env = {"MASTODON_ACCESS_TOKEN": "t0ken"}
    with pytest.raises(ConnectorError, match=r"set options\.instance"):
        MastodonConnector(SourceSettings(name="toots", env=env))
    bare = MastodonConnector(SourceSettings(name="toots", options={"instance": "Fosstodon.org/"}, env=env))
    assert bare.host == "fosstodon.org" and bare.api.api_base_url == "https://fosstodon.org"
    proxied = MastodonConnector(SourceSettings(name="toots", base_url="http://127.0.0.1:9/", env=env))
    assert proxied.host == "127.0.0.1:9"


def mastodon_text(markup: str) -> str:
    return html_to_text(markup, hidden_classes={"quote-inline"})


def test_mastodon_html_becomes_the_text_a_reader_sees() -> None:
    assert (
        mastodon_text("<p>one<br>two<br />three</p><p>four &lt;5&gt; &#127881;</p>") == "one\ntwo\nthree\n\nfour <5> 🎉"
    )
    assert mastodon_text(
        '<p>a <span class="h-card"><a href="x" class="u-url mention">@<span>b</span></a></span></p>'
    ) == ("a @b")
    assert mastodon_text("<blockquote><p>quoted</p></blockquote><ul><li>x</li><li>y</li></ul>") == "quoted\n\nx\n\ny"
    assert mastodon_text('<p class="quote-inline">RE: <a href="u"><span>u</span></a><br></p><p>kept</p>') == "kept"
    assert mastodon_text("") == "" and mastodon_text("plain <b>text") == "plain text"


runner = CliRunner()


def test_reputation_fetch_mastodon_prints_mentions(fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add(5)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", fake.access_token)
    result = runner.invoke(
        app,
        [
            *("fetch", "mastodon", "--query", "voltmart", "--base-url", fake.url, "--limit", "4"),
            *("--option", f"instance={INSTANCE}", "--option", "hashtags=[voltmart]", "--option", "page_size=2"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and all(line["platform"] == "mastodon" for line in lines)
    assert all(line["native_id"].startswith(f"{DOMAIN}:") for line in lines)


def test_the_token_stays_out_of_logs_and_stdout(
    fake: FakeMastodon, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add(2)
    caplog.set_level(logging.DEBUG)
    source = connector(fake, hashtags=["voltmart"])
    assert source.api.debug_requests is False
    list(source.fetch("voltmart", None))
    fake.fail("unauthorized")
    _, error = list_until_error(connector(fake))
    captured = capsys.readouterr()
    assert error is not None and fake.access_token not in str(error)
    assert fake.access_token not in caplog.text + captured.out + captured.err


def test_a_reply_that_also_quotes_keeps_its_quote_link(fake: FakeMastodon) -> None:
    root_id, reply_id, quote_id, _ = fake.add(4)
    quoted = copy.deepcopy(fake.find(quote_id))
    both = fake.status(
        ACCOUNTS[1],
        f"<p>{BRAND}, see this too</p>",
        in_reply_to_id=fake.find(reply_id)["id"],
        quote={"state": "accepted", "quoted_status": quoted},
    )
    both_id = fake.post(both)
    by_id = {m.native_id: m for m in mentions(fake)}
    assert (by_id[both_id].kind, by_id[both_id].parent_id, by_id[both_id].quoted_id) == (Kind.REPLY, reply_id, quote_id)
    assert by_id[quote_id].quoted_id == root_id and by_id[reply_id].quoted_id is None
