"""The Reddit connector: the contract suite, then what is particular to Reddit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.errors import AuthenticationFailed, ConnectorError
from connectors.reddit import RedditConnector
from connectors.retry import RetryPolicy
from connectors.testing import ConnectorContract
from reputation.connector import SourceSettings
from reputation.models import Kind, Mention
from tests.fakes.reddit import SUBSCRIBERS, FakeReddit

OPTIONS = {"subreddits": ["voltmart", "gadgets"]}


class TestRedditContract(ConnectorContract, connector=RedditConnector, fake=FakeReddit, options=OPTIONS): ...


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    with FakeReddit() as running:
        yield running


def connector(fake: FakeReddit, **options: object) -> RedditConnector:
    settings = SourceSettings(
        name="reddit", query="voltmart", base_url=fake.url, options={**OPTIONS, **options}, env=fake.env
    )
    return RedditConnector(settings, retry=RetryPolicy(max_attempts=1))


def fetch(fake: FakeReddit, **options: object) -> list[Mention]:
    return [m for batch in connector(fake, **options).fetch("voltmart", None) for m in batch.mentions]


def test_replies_carry_fullnames_that_join_their_cascade(fake: FakeReddit) -> None:
    submission_id, comment_id, reply_id = fake.add(3)
    by_id = {m.native_id: m for m in fetch(fake)}
    post, comment, reply = by_id[submission_id], by_id[comment_id], by_id[reply_id]
    assert submission_id.startswith("t3_") and comment_id.startswith("t1_")
    assert (post.kind, post.parent_id, post.root_id) == (Kind.POST, None, None)
    assert (comment.kind, comment.parent_id, comment.root_id) == (Kind.COMMENT, submission_id, submission_id)
    assert (reply.kind, reply.parent_id, reply.root_id) == (Kind.REPLY, comment_id, submission_id)
    assert post.author.handle == "dan_okafor" and post.author.id.startswith("t2_")
    assert post.url.startswith("https://www.reddit.com/r/voltmart/comments/")
    assert post.text.startswith("Voltmart refused my refund") and post.metrics.replies == 2
    assert post.raw["subreddit_subscribers"] == SUBSCRIBERS["voltmart"] and post.raw["author"] == "dan_okafor"
    assert comment.raw["subreddit_subscribers"] == SUBSCRIBERS["voltmart"]


def test_one_token_and_one_request_per_page_never_one_per_item(fake: FakeReddit) -> None:
    fake.add(8)
    fake.page_size = 100
    mentions = fetch(fake)
    assert len(mentions) == 8
    assert fake.tokens_issued == 1
    assert [request.path for request in fake.data_requests] == [
        "/r/voltmart+gadgets/search/",
        "/r/voltmart+gadgets/comments/",
    ]


def test_without_subreddits_it_searches_site_wide_submissions_only(fake: FakeReddit) -> None:
    fake.add(6)
    settings = SourceSettings(name="reddit", query="voltmart", base_url=fake.url, env=fake.env)
    mentions = [m for b in RedditConnector(settings).fetch("voltmart", None) for m in b.mentions]
    assert mentions and {m.kind for m in mentions} == {Kind.POST}
    assert {r.path for r in fake.data_requests} == {"/r/all/search/"}
    assert "restrict_sr" not in fake.data_requests[0].query


def test_comments_are_filtered_by_the_query_unless_asked_for_all(fake: FakeReddit) -> None:
    fake.add(2)
    fake.things[-1]["data"]["body"] = "Totally unrelated: nice weather today"
    assert len(fetch(fake)) == 1
    assert len(fetch(fake, comments="all")) == 2
    assert {m.kind for m in fetch(fake, comments="none")} == {Kind.POST}
    with pytest.raises(ConnectorError, match=r"options\.comments"):
        connector(fake, comments="some")


def test_a_token_endpoint_refusal_is_an_authentication_failure(fake: FakeReddit) -> None:
    env = {**fake.env, "REDDIT_CLIENT_SECRET": "not-the-secret-at-all"}
    settings = SourceSettings(name="reddit", query="voltmart", base_url=fake.url, options=OPTIONS, env=env)
    with pytest.raises(AuthenticationFailed) as failure:
        list(RedditConnector(settings).fetch("voltmart", None))
    assert "not-the-secret-at-all" not in str(failure.value) and fake.data_requests == []
