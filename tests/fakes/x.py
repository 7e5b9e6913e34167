"""A local stand-in for X's API v2 recent search, on 127.0.0.1.

It speaks the real protocol as tweepy uses it: `GET /2/tweets/search/recent`
with a bearer token; `query`, `max_results` (10-100), `since_id`, `next_token`,
`tweet.fields`, `user.fields` and `expansions`; results newest first with
`data`, `includes.users`, `includes.tweets` and `meta` (`newest_id`,
`oldest_id`, `result_count`, `next_token`); only the fields asked for; the
`x-rate-limit-*` headers; and X's problem-JSON bodies for 400, 401, 429 and 503.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.testing import BRAND, FakePlatform, Reply, Request

SEARCH_PATH = "/2/tweets/search/recent"
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
RATE_LIMIT = 450
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)

USERS: list[dict[str, Any]] = [
    {
        "id": "2244994945",
        "name": "Maya",
        "username": "maya_builds",
        "public_metrics": {"followers_count": 3800, "following_count": 310, "tweet_count": 5120, "listed_count": 12},
    },
    {
        "id": "783214",
        "name": "Dan Okafor",
        "username": "dan_okafor",
        "public_metrics": {"followers_count": 120, "following_count": 95, "tweet_count": 880, "listed_count": 0},
    },
    {
        "id": "1517171717171717171",
        "name": "Gadget Desk",
        "username": "gadgetdesk",
        "public_metrics": {"followers_count": 91000, "following_count": 12, "tweet_count": 40211, "listed_count": 640},
    },
]


def _problem(status: int, title: str, detail: str | None = None) -> Reply:
    body = {"title": title, "type": "about:blank", "status": status, "detail": detail or title}
    return Reply(status, body, {"Content-Type": "application/problem+json"})


def _invalid(parameter: str, value: str, message: str) -> Reply:
    body = {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    return Reply(400, body)


def _token(before_id: int) -> str:
    return base64.urlsafe_b64encode(f"b26v89c19zqg8o3f:{before_id}".encode()).decode().rstrip("=")


def _before(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError):
        return None


class FakeX(FakePlatform):
    bearer_token = "AAAAAAAAAAAAAAAAAAAAAFakeXBearer%2Fvoltmart7Qk9rT2xuZ3pYb3k"

    def __init__(self) -> None:
        super().__init__()
        self.tweets: list[dict[str, Any]] = []  # oldest first
        self.users = {user["id"]: user for user in USERS}
        self.oldest_since_id: int | None = None  # X refuses a since_id older than its 7-day window
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {"X_BEARER_TOKEN": self.bearer_token}

    # The dataset: a story of roots, replies, quotes and retweets.

    def publish(self, count: int) -> list[str]:
        return [self.post(self._next_tweet()) for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.tweets[len(self.tweets) - count :]
        del self.tweets[len(self.tweets) - count :]
        return [tweet["id"] for tweet in gone]

    def post(self, tweet: dict[str, Any]) -> str:
        """Publish a tweet given as X's full object (missing optional fields are fine)."""
        with self.lock:
            self.tweets.append(tweet)
            return str(tweet["id"])

    def new_id(self) -> tuple[str, datetime]:
        self._serial += 1
        return str(1879000000000000000 + self._serial * 4096), START + timedelta(minutes=self._serial)

    def _next_tweet(self) -> dict[str, Any]:
        tweet_id, created = self.new_id()
        author = USERS[self._serial % len(USERS)]
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": author["id"],
            "conversation_id": tweet_id,
            "lang": "en",
            "public_metrics": {
                "retweet_count": self._serial % 5,
                "reply_count": self._serial % 3,
                "like_count": self._serial * 2,
                "quote_count": self._serial % 2,
                "bookmark_count": 0,
                "impression_count": self._serial * 100,
            },
        }
        roots = [t for t in self.tweets if "referenced_tweets" not in t]
        shape = (self._serial - 1) % 4  # root, reply, quote, retweet, root, ...
        if not roots or shape == 0:
            tweet["text"] = (
                f"@{BRAND} my Voltbook battery swelled after a week and support hung up on me #{self._serial}"
            )
            return tweet
        root = roots[-1]
        root_author = self.users[root["author_id"]]["username"]
        if shape == 1:
            tweet["text"] = f"@{root_author} same here, {BRAND} ignored me for weeks"
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": root["id"]}]
            tweet["in_reply_to_user_id"] = root["author_id"]
            tweet["conversation_id"] = root["conversation_id"]
        elif shape == 2:
            tweet["text"] = f"{BRAND} really needs to answer this one https://t.co/q{self._serial}"
            tweet["referenced_tweets"] = [{"type": "quoted", "id": root["id"]}]
        else:
            tweet["text"] = f"RT @{root_author}: {root['text']}"
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": root["id"]}]
            tweet["public_metrics"] = dict.fromkeys(tweet["public_metrics"], 0)
        return tweet

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path == SEARCH_PATH

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.path != SEARCH_PATH:
            return _problem(404, "Not Found Error", f"Sorry, that page does not exist: {request.path}")
        if request.headers.get("authorization") != f"Bearer {self.bearer_token}":
            return self.fault_reply("unauthorized", request)
        params = request.query
        if not params.get("query"):
            return _invalid("query", "", "The `query` query parameter can not be empty")
        max_results = params.get("max_results", "10")
        if not max_results.isdigit() or not 10 <= int(max_results) <= 100:
            return _invalid(
                "max_results",
                max_results,
                f"The `max_results` query parameter value [{max_results}] is not between 10 and 100",
            )
        before = None
        if "next_token" in params:
            before = _before(params["next_token"])
            if before is None:
                return _invalid("next_token", params["next_token"], "The `next_token` query parameter value is invalid")
        since = int(params["since_id"]) if params.get("since_id", "").isdigit() else None
        if since is not None and self.oldest_since_id is not None and since < self.oldest_since_id:
            return _invalid(
                "since_id",
                str(since),
                f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id created after 2026-01-01T12:00:00Z. "
                f"Please use a 'since_id' that is larger than {self.oldest_since_id}",
            )
        words = [w for w in re.findall(r"[\w@#]+", params["query"].lower()) if w not in {"or", "and", "lang"}]
        matching = [
            tweet
            for tweet in reversed(self.tweets)
            if any(word.lstrip("@#") in tweet["text"].lower() for word in words)
            and (since is None or int(tweet["id"]) > since)
            and (before is None or int(tweet["id"]) < before)
        ]
        page = matching[: min(int(max_results), self.page_size)]
        return Reply(200, self._body(page, matching, params, fault), self._rate_headers(remaining=RATE_LIMIT - 1))

    def _body(
        self, page: list[dict[str, Any]], matching: list[dict[str, Any]], params: dict[str, str], fault: str | None
    ) -> dict[str, Any]:
        tweet_fields = set(DEFAULT_TWEET_FIELDS) | set(filter(None, params.get("tweet.fields", "").split(",")))
        user_fields = set(DEFAULT_USER_FIELDS) | set(filter(None, params.get("user.fields", "").split(",")))
        expansions = set(filter(None, params.get("expansions", "").split(",")))
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return {"meta": meta}
        meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if fault == "repeat_page" and "next_token" in params:
            meta["next_token"] = params["next_token"]
        elif len(matching) > len(page):
            meta["next_token"] = _token(int(page[-1]["id"]))
        body: dict[str, Any] = {"data": [self._fields(t, tweet_fields) for t in page], "meta": meta}
        by_id = {tweet["id"]: tweet for tweet in self.tweets}
        referenced = [by_id[ref["id"]] for t in page for ref in t.get("referenced_tweets", []) if ref["id"] in by_id]
        includes: dict[str, Any] = {}
        author_ids: list[str] = []
        if "author_id" in expansions:
            author_ids += [t["author_id"] for t in page if "author_id" in t]
        if "referenced_tweets.id" in expansions and referenced:
            includes["tweets"] = [self._fields(t, tweet_fields) for t in referenced]
            if "referenced_tweets.id.author_id" in expansions:
                author_ids += [t["author_id"] for t in referenced if "author_id" in t]
        users = [self.users[i] for i in dict.fromkeys(author_ids) if i in self.users]
        if users:
            includes["users"] = [{k: v for k, v in u.items() if k in user_fields} for u in users]
        if includes:
            body["includes"] = includes
        return body

    @staticmethod
    def _fields(record: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {key: value for key, value in record.items() if key in fields}

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(RATE_LIMIT),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            reply = _problem(429, "Too Many Requests")
            reply.headers.update(self._rate_headers(remaining=0))
            reply.headers["x-rate-limit-reset"] = str(int(time.time()) + self.retry_after_seconds)
            return reply
        if fault == "server_error":
            return _problem(503, "Service Unavailable")
        if fault == "unauthorized":
            return _problem(401, "Unauthorized")
        return super().fault_reply(fault, request)
