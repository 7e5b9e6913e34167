"""The X connector: the contract suite, then what is particular to X."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.errors import ConnectorError
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from connectors.x import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, XConnector
from reputation.connector import SourceSettings
from reputation.models import Kind, Mention
from tests.fakes.x import FakeX


class TestXContract(ConnectorContract, connector=XConnector, fake=FakeX): ...


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as running:
        yield running


def connector(fake: FakeX, **options: object) -> XConnector:
    settings = SourceSettings(name="x", query="voltmart", base_url=fake.url, options=options, env=fake.env)
    return XConnector(settings, retry=RetryPolicy(max_attempts=1))


def fetch(fake: FakeX, state: dict[str, object] | None = None) -> tuple[list[Mention], list[str], dict[str, object]]:
    batches = list(connector(fake).fetch("voltmart", state))
    mentions = [m for b in batches for m in b.mentions]
    return mentions, [p for b in batches for p in b.problems], batches[-1].state if batches else {}


def test_tweepy_asks_for_the_fields_and_expansions_it_needs(fake: FakeX) -> None:
    fake.add(2)
    fetch(fake)
    request = fake.data_requests[0]
    assert request.headers["authorization"] == f"Bearer {fake.bearer_token}"
    assert "Tweepy/" in request.headers["user-agent"]
    assert set(request.query["tweet.fields"].split(",")) == set(TWEET_FIELDS)
    assert set(request.query["expansions"].split(",")) == set(EXPANSIONS)
    assert set(request.query["user.fields"].split(",")) == set(USER_FIELDS)
    assert connector(fake).client.wait_on_rate_limit is False


def test_replies_quotes_and_retweets_join_the_conversation(fake: FakeX) -> None:
    root_id, reply_id, quote_id, retweet_id = fake.add(4)
    mentions, problems, _ = fetch(fake)
    by_id = {m.native_id: m for m in mentions}
    assert problems == []
    root, reply, quote, retweet = (by_id[i] for i in (root_id, reply_id, quote_id, retweet_id))
    assert root.kind is Kind.POST and root.root_id == root_id and root.parent_id is None
    assert (reply.kind, reply.parent_id, reply.root_id) == (Kind.REPLY, root_id, root_id)
    assert (quote.kind, quote.parent_id, quote.root_id) == (Kind.QUOTE, root_id, root_id)
    assert (retweet.kind, retweet.parent_id, retweet.root_id) == (Kind.RESHARE, root_id, root_id)
    assert (
        root.author.handle
        and root.author.followers
        and root.url == f"https://x.com/{root.author.handle}/status/{root_id}"
    )
    assert root.metrics.likes is not None and root.language == "en" and root.raw["tweet"]["id"] == root_id


def test_missing_optional_fields_are_tolerated_and_broken_items_reported(fake: FakeX) -> None:
    bare_id, _ = fake.new_id()
    fake.post({"id": bare_id, "text": "Voltmart again", "edit_history_tweet_ids": [bare_id], "author_id": "999"})
    fake.tweets[-1]["created_at"] = "2026-01-08T13:00:00.000Z"
    undated_id, _ = fake.new_id()
    fake.post({"id": undated_id, "text": "Voltmart, no date", "edit_history_tweet_ids": [undated_id]})
    broken_id, _ = fake.new_id()
    fake.post({"id": broken_id, "edit_history_tweet_ids": [broken_id], "author_id": "1", "text": "Voltmart!"})
    fake.tweets[-1]["created_at"] = "yesterday"
    batches = list(connector(fake).fetch("voltmart", None))
    mentions = {m.native_id: m for b in batches for m in b.mentions}
    problems = [p for b in batches for p in b.problems]
    bare, undated = mentions[bare_id], mentions[undated_id]
    assert bare.native_id == bare_id and bare.author.followers is None and bare.author.handle == ""
    assert bare.url == f"https://x.com/i/web/status/{bare_id}" and bare.language is None
    assert bare.root_id == bare_id and bare.metrics.likes is None
    # Only id and text: kept, its author unknown (and its own), its time read from the snowflake id.
    assert undated.author.id == f"[unknown]:{undated_id}" and undated.author.handle == ""
    assert undated.created_at == datetime.fromtimestamp(((int(undated_id) >> 22) + 1288834974657) / 1000, UTC)
    assert sum(b.degraded for b in batches) == 1
    assert len(mentions) == 2 and len(problems) == 1 and problems[0].startswith(f"x:{broken_id}:")


def test_since_id_moves_only_when_a_scan_completes(fake: FakeX) -> None:
    ids = fake.add(7)
    fake.fail("server_error", after=1, times=5)
    batches: list[dict[str, object]] = []
    with pytest.raises(ConnectorError):
        for batch in connector(fake).fetch("voltmart", None):
            batches.append(batch.state)
    (state,) = batches
    assert "since_id" not in state and state["in_progress"]["newest_id"] == ids[-1]  # type: ignore[index]
    fake.clear_faults()
    _, _, final = fetch(fake, json.loads(json.dumps(state)))
    assert final == {"since_id": ids[-1]}
    resumed = fake.data_requests[-3]
    assert resumed.query["next_token"] == state["in_progress"]["next_token"]  # type: ignore[index]


def test_a_since_id_older_than_the_search_window_restarts_the_scan(fake: FakeX) -> None:
    ids = fake.add(4)
    _, _, state = fetch(fake)
    newer = fake.add(2)
    fake.oldest_since_id = int(ids[-1]) + 1
    mentions, problems, final = fetch(fake, state)
    assert sorted(m.native_id for m in mentions) == sorted(ids + newer)
    assert len(problems) == 1 and "7-day search window" in problems[0]
    assert final == {"since_id": newer[-1]}


def test_a_query_is_required(fake: FakeX) -> None:
    settings = SourceSettings(name="x", base_url=fake.url, env=fake.env)
    with pytest.raises(ConnectorError, match="needs a query"):
        list(XConnector(settings).fetch("", None))


def test_the_token_stays_out_of_debug_logs(fake: FakeX, caplog: pytest.LogCaptureFixture) -> None:
    fake.add(2)
    caplog.set_level(logging.DEBUG)
    fetch(fake)
    assert fake.bearer_token not in caplog.text
