"""The Bluesky connector: the contract suite, then what is particular to Bluesky."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.bluesky import BlueskyConnector, forget_sessions, sort_key, tid_for, tid_text, tid_value
from connectors.errors import AuthenticationFailed, ConnectorError
from connectors.retry import RetryPolicy
from connectors.testing import BRAND, ConnectorContract
from reputation.cli.app import app
from reputation.connector import SourceSettings
from reputation.models import FetchedBatch, Kind, Mention
from tests.fakes.bluesky import AUTHORS, FakeBluesky


class TestBlueskyContract(ConnectorContract, connector=BlueskyConnector, fake=FakeBluesky): ...


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as running:
        yield running


def connector(fake: FakeBluesky, base_url: str | None = "", **options: object) -> BlueskyConnector:
    settings = SourceSettings(
        name="bluesky",
        query="voltmart",
        base_url=fake.url if base_url == "" else base_url,
        options=options,
        env=fake.env,
    )
    return BlueskyConnector(settings, retry=RetryPolicy(max_attempts=1))


def batches(fake: FakeBluesky, state: dict[str, Any] | None = None, **options: object) -> list[FetchedBatch]:
    return list(connector(fake, **options).fetch("voltmart", state))


def fetch(fake: FakeBluesky, state: dict[str, Any] | None = None) -> tuple[list[Mention], list[str], dict[str, Any]]:
    done = batches(fake, state)
    mentions = [m for b in done for m in b.mentions]
    return mentions, [p for b in done for p in b.problems], done[-1].state if done else {}


def test_it_logs_in_with_the_app_password_then_searches_with_the_access_token(fake: FakeBluesky) -> None:
    fake.add(2)
    fetch(fake)
    login, search, profiles = fake.requests
    assert (login.method, login.path) == ("POST", "/xrpc/com.atproto.server.createSession")
    assert json.loads(login.body) == {"identifier": fake.handle, "password": fake.app_password}
    assert (search.method, search.path) == ("GET", "/xrpc/app.bsky.feed.searchPosts")
    assert search.query == {"q": "voltmart", "sort": "latest", "limit": "100"}
    token = search.headers["authorization"].removeprefix("Bearer ")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert token.count(".") == 2 and header["typ"] == "at+jwt"
    assert search.headers["user-agent"].startswith("atproto/")
    assert "atproto-proxy" not in search.headers  # the PDS proxies app.bsky.* to its default AppView
    assert profiles.path == "/xrpc/app.bsky.actor.getProfiles"
    assert profiles.headers["authorization"] == search.headers["authorization"]


def test_replies_and_quotes_join_their_thread(fake: FakeBluesky) -> None:
    root_id, reply_id, nested_id, quote_id = fake.add(4)
    mentions, problems, _ = fetch(fake)
    by_id = {m.native_id: m for m in mentions}
    assert problems == []
    root, reply, nested, quote = (by_id[i] for i in (root_id, reply_id, nested_id, quote_id))
    assert (root.kind, root.parent_id, root.root_id) == (Kind.POST, None, root_id)
    assert (reply.kind, reply.parent_id, reply.root_id) == (Kind.REPLY, root_id, root_id)
    assert (nested.kind, nested.parent_id, nested.root_id) == (Kind.REPLY, reply_id, root_id)
    # A quote (here with an image) of a reply spreads the thread the reply belongs to.
    assert (quote.kind, quote.parent_id, quote.root_id) == (Kind.QUOTE, nested_id, root_id)
    desk = next(author for author in AUTHORS if author["handle"] == "gadgetdesk.com")
    rkey = root_id.rsplit("/", 1)[1]
    assert root_id == f"at://{root.author.id}/app.bsky.feed.post/{rkey}"
    assert root.url == f"https://bsky.app/profile/{root.author.handle}/post/{rkey}"
    assert (reply.author.id, reply.author.handle, reply.author.followers) == (
        desk["did"],
        "gadgetdesk.com",
        desk["followersCount"],
    )
    assert root.language == "en" and root.text.startswith("@voltmart.com my Voltbook")
    post = fake.posts[0]
    assert (root.metrics.likes, root.metrics.reshares, root.metrics.replies) == (
        post["likeCount"],
        post["repostCount"],
        post["replyCount"],
    )
    assert root.raw["post"] == post and root.raw["author_followers"] == root.author.followers


def test_a_plain_quote_of_a_root_and_an_embedded_feed(fake: FakeBluesky) -> None:
    (root_id,) = fake.add(1)
    quote_id = fake.post(f"{BRAND} look at this", 1, quote=root_id)
    feed_id = fake.post(f"{BRAND} complaints, collected", 2)
    feed = fake.posts[-1]
    feed["record"]["embed"] = {
        "$type": "app.bsky.embed.record",
        "record": {"uri": f"at://{AUTHORS[2]['did']}/app.bsky.feed.generator/complaints", "cid": feed["cid"]},
    }
    by_id = {m.native_id: m for m in fetch(fake)[0]}
    assert (by_id[quote_id].kind, by_id[quote_id].parent_id, by_id[quote_id].root_id) == (Kind.QUOTE, root_id, root_id)
    assert (by_id[feed_id].kind, by_id[feed_id].parent_id) == (Kind.POST, None)


def test_created_at_is_converted_to_utc_whatever_offset_the_client_wrote(fake: FakeBluesky) -> None:
    tokyo = fake.post(f"{BRAND} lost my parcel", created_at="2026-01-08T21:30:00.250+09:00")
    naive = fake.post(f"{BRAND} again", created_at="2026-01-08T12:31:00")
    nanos = fake.post(f"{BRAND} and again", created_at="2026-01-08T12:32:00.123456789Z")
    by_id = {m.native_id: m for m in fetch(fake)[0]}
    assert by_id[tokyo].created_at == datetime(2026, 1, 8, 12, 30, 0, 250000, tzinfo=UTC)
    assert by_id[naive].created_at == datetime(2026, 1, 8, 12, 31, tzinfo=UTC)
    assert by_id[nanos].created_at == datetime(2026, 1, 8, 12, 32, 0, 123456, tzinfo=UTC)
    assert all(m.created_at.tzinfo is UTC for m in by_id.values())


def test_broken_posts_are_reported_and_skipped_never_the_page(fake: FakeBluesky) -> None:
    good = fake.post(f"{BRAND} fine post")
    bad_date = fake.post(f"{BRAND} from a client with its own clock", created_at="yesterday-ish")
    no_did = fake.post(f"{BRAND} a ghost")
    fake.posts[-1]["author"].pop("did")
    odd = fake.post(f"{BRAND} not even a post")
    fake.posts[-1]["record"]["$type"] = "app.bsky.feed.like"
    mentions, problems, _ = fetch(fake)
    assert [m.native_id for m in mentions] == [good]
    assert sorted(p.split(": ", 1)[0] for p in problems) == sorted(f"bluesky:{uri}" for uri in (bad_date, no_did, odd))
    assert any("yesterday-ish" in p for p in problems)


def test_an_unverified_handle_links_the_profile_by_did(fake: FakeBluesky) -> None:
    uri = fake.post(f"{BRAND} where is my refund")
    fake.posts[-1]["author"]["handle"] = "handle.invalid"
    (mention,) = fetch(fake)[0]
    assert mention.author.handle == "" and mention.native_id == uri
    assert mention.url == f"https://bsky.app/profile/{mention.author.id}/post/{uri.rsplit('/', 1)[1]}"


def test_a_tid_from_the_future_cannot_hide_later_posts(fake: FakeBluesky) -> None:
    future = tid_for(datetime(2031, 1, 1, tzinfo=UTC))
    sneaky = fake.post(f"{BRAND} posted from a broken clock", rkey=future)
    first, _, state = fetch(fake)
    assert [m.native_id for m in first] == [sneaky]
    assert tid_value(state["since_id"]) < tid_value(future)  # type: ignore[operator]  # capped at indexedAt
    later = fake.add(2)
    mentions, _, _ = fetch(fake, state)
    assert sorted(m.native_id for m in mentions) == sorted(later)


def test_tids_round_trip_and_the_sort_key_is_capped_by_indexed_at() -> None:
    moment = datetime(2026, 1, 8, 12, 0, 0, 123456, tzinfo=UTC)
    tid = tid_for(moment, clock_id=7)
    assert len(tid) == 13 and tid_text(tid_value(tid)) == tid  # type: ignore[arg-type]
    assert tid_value(tid) == ((int(moment.timestamp()) * 1_000_000 + 123456) << 10 | 7)
    assert tid_value("not-a-tid") is None and tid_value("zzzzzzzzzzzzz") is None
    assert sort_key(tid, "2026-01-08T12:00:01.000Z") == tid
    assert sort_key(tid, "2026-01-08T11:00:00.000Z") < tid  # type: ignore[operator]
    assert sort_key("custom-rkey", "2026-01-08T12:00:01.000Z") is not None
    assert sort_key("custom-rkey", "garbage") is None


def test_a_post_arriving_mid_scan_shifts_the_offset_cursor_but_nothing_is_yielded_twice(fake: FakeBluesky) -> None:
    first = fake.add(7)
    run = connector(fake).fetch("voltmart", None)
    seen = [m.native_id for m in next(run).mentions]
    arrived = fake.add(1)  # pushes every older post one place down the listing
    seen += [m.native_id for batch in run for m in batch.mentions]
    assert len(seen) == len(set(seen)) and set(first) <= set(seen) and arrived[0] not in seen


def test_the_next_run_after_a_complete_scan_reads_only_the_first_page(fake: FakeBluesky) -> None:
    fake.add(7)
    _, _, state = fetch(fake)
    before = len(fake.data_requests)
    new = fake.add(1)
    mentions, _, final = fetch(fake, state)
    assert [m.native_id for m in mentions] == new and len(fake.data_requests) == before + 1
    assert final == {"since_id": new[0].rsplit("/", 1)[1]}  # the post's own TID: it was indexed after it


def test_sessions_are_kept_for_the_process_and_refreshed_by_the_sdk(fake: FakeBluesky) -> None:
    fake.add(2)
    fake.access_seconds = 600  # the SDK refreshes a token that expires within 15 minutes
    fetch(fake)
    fetch(fake)
    assert fake.sessions_created == 1 and fake.refreshes >= 1
    refresh = next(r for r in fake.requests if r.path.endswith("refreshSession"))
    assert refresh.method == "POST" and refresh.headers["authorization"].startswith("Bearer ")


def test_a_kept_session_that_was_revoked_is_replaced_by_one_fresh_login(fake: FakeBluesky) -> None:
    fake.add(2)
    first, _, _ = fetch(fake)
    fake.revoked.add(fake.data_requests[-1].headers["authorization"].removeprefix("Bearer "))
    again, problems, _ = fetch(fake)
    assert len(again) == len(first) == 2 and problems == []
    assert fake.sessions_created == 2
    statuses = [r.path.rsplit(".", 1)[1] for r in fake.requests]
    assert statuses.count("createSession") == 2 and statuses.count("searchPosts") == 3


def test_a_wrong_app_password_fails_authentication_without_searching(fake: FakeBluesky) -> None:
    fake.add(1)
    wrong = "abcd-efgh-ijkl-mnop"
    settings = SourceSettings(
        name="bluesky",
        query="voltmart",
        base_url=fake.url,
        env={"BLUESKY_HANDLE": fake.handle, "BLUESKY_APP_PASSWORD": wrong},
    )
    with pytest.raises(AuthenticationFailed, match="Invalid identifier or password") as failure:
        list(BlueskyConnector(settings, retry=RetryPolicy(max_attempts=3, sleep=pytest.fail)).fetch("voltmart", None))
    assert wrong not in str(failure.value) and fake.data_requests == []


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(AuthenticationFailed, match="BLUESKY_APP_PASSWORD"):
        BlueskyConnector(SourceSettings(name="bluesky", query="voltmart", env={"BLUESKY_HANDLE": "a.bsky.social"}))


def test_without_base_url_it_follows_the_pds_in_the_did_document(fake: FakeBluesky) -> None:
    fake.add(2)
    port = fake.url.rsplit(":", 1)[1]
    fake.pds_endpoint = f"http://localhost:{port}"
    done = list(connector(fake, base_url=None, service=fake.url).fetch("voltmart", None))
    assert sum(len(b.mentions) for b in done) == 2
    login, search = fake.requests[0], fake.data_requests[0]
    assert login.headers["host"] == f"127.0.0.1:{port}" and search.headers["host"] == f"localhost:{port}"


def test_base_url_pins_every_request_to_it(fake: FakeBluesky) -> None:
    fake.add(4)
    fake.access_seconds = 600  # a refresh answers with the DID document again
    fetch(fake)
    assert {r.headers["host"] for r in fake.requests} == {fake.url.removeprefix("http://")}
    assert fake.refreshes >= 1


def test_follower_lookup_can_be_turned_off(fake: FakeBluesky) -> None:
    fake.add(3)
    mentions = [m for b in batches(fake, followers=False) for m in b.mentions]
    assert len(mentions) == 3 and all(m.author.followers is None for m in mentions)
    assert not any(r.path.endswith("getProfiles") for r in fake.requests)


def test_authors_are_looked_up_once_per_connector_in_batches(fake: FakeBluesky) -> None:
    fake.add(7)
    fetch(fake)
    lookups = [r for r in fake.requests if r.path.endswith("getProfiles")]
    assert len(lookups) == 1  # the first page already holds all three authors


def test_authors_are_looked_up_25_at_a_time(fake: FakeBluesky) -> None:
    fake.page_size = 100
    for number in range(27):
        fake.post(f"{BRAND} complaint number {number}")
        did = f"did:plc:crowd{number:019d}"
        fake.posts[-1]["author"].update(did=did, handle=f"crowd{number}.bsky.social")
        fake.posts[-1]["uri"] = fake.posts[-1]["uri"].replace(AUTHORS[0]["did"], did)
        fake.profiles[did] = {"did": did, "handle": f"crowd{number}.bsky.social", "followersCount": number}
    mentions, problems, _ = fetch(fake)
    assert problems == [] and len(mentions) == 27
    assert sorted(m.author.followers or 0 for m in mentions) == list(range(27))
    assert len([r for r in fake.requests if r.path.endswith("getProfiles")]) == 2


def test_lang_and_lookback_days_become_search_filters(fake: FakeBluesky) -> None:
    fake.add(1)
    fake.post(f"{BRAND} ne répond jamais", langs=["fr"])
    mentions = [m for b in batches(fake, lang="fr", lookback_days=36500) for m in b.mentions]
    assert [m.language for m in mentions] == ["fr"]
    query = fake.data_requests[-1].query
    since = datetime.fromisoformat(query["since"])
    assert query["lang"] == "fr" and abs(since - (datetime.now(UTC) - timedelta(days=36500))) < timedelta(minutes=5)


@pytest.mark.parametrize(
    ("option", "value"),
    [("page_size", 0), ("page_size", 101), ("followers", "yes"), ("lookback_days", -1), ("service", "ftp://x")],
)
def test_bad_options_are_named(fake: FakeBluesky, option: str, value: object) -> None:
    with pytest.raises(ConnectorError, match=rf"options\.{option}"):
        connector(fake, **{option: value})


def test_a_query_is_required_and_a_foreign_cursor_is_refused(fake: FakeBluesky) -> None:
    settings = SourceSettings(name="bluesky", base_url=fake.url, env=fake.env)
    with pytest.raises(ConnectorError, match="needs a query"):
        list(BlueskyConnector(settings).fetch("", None))
    with pytest.raises(ConnectorError, match="not a Bluesky TID"):
        list(connector(fake).fetch("voltmart", {"since_id": "1879000000000004096"}))


runner = CliRunner()


def test_reputation_fetch_bluesky_prints_mentions(fake: FakeBluesky, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add(5)
    for name, value in fake.env.items():
        monkeypatch.setenv(name, value)
    args = ["fetch", "bluesky", "--query", "voltmart", "--base-url", fake.url, "--limit", "4"]
    result = runner.invoke(app, [*args, "--option", "followers=false"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and all(line["platform"] == "bluesky" for line in lines)
    assert all(line["native_id"].startswith("at://did:plc:") for line in lines)
    assert not any(r.path.endswith("getProfiles") for r in fake.requests)


def test_the_password_and_tokens_stay_out_of_debug_logs(
    fake: FakeBluesky, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add(2)
    # Airflow's logging config (loaded by earlier tests in the same process) quiets httpx; hear it again.
    httpx_log = logging.getLogger("httpx")
    monkeypatch.setattr(httpx_log, "disabled", False)
    monkeypatch.setattr(httpx_log, "propagate", True)
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG)
    fetch(fake)
    tokens = [r.headers["authorization"].removeprefix("Bearer ") for r in fake.data_requests]
    assert "searchPosts" in caplog.text, "httpx's request log was not captured"
    assert tokens and fake.app_password not in caplog.text
    assert not any(token in caplog.text for token in tokens)


@pytest.fixture(autouse=True)
def _no_kept_sessions() -> Iterator[None]:
    forget_sessions()
    yield
    forget_sessions()


def test_a_reply_that_also_quotes_keeps_its_quote_link(fake: FakeBluesky) -> None:
    root_id, other_id = fake.add(1)[0], fake.post(f"{BRAND} support line is down again", author=1)
    both_id = fake.post(f"@{BRAND} same as this one", author=2, reply_to=root_id, quote=other_id)
    by_id = {m.native_id: m for m in fetch(fake)[0]}
    both = by_id[both_id]
    assert (both.kind, both.parent_id, both.root_id, both.quoted_id) == (Kind.REPLY, root_id, root_id, other_id)
    assert by_id[root_id].quoted_id is None
