"""A local stand-in for Reddit's OAuth API, on 127.0.0.1.

It speaks the protocol as praw and prawcore use it: `POST /api/v1/access_token`
with HTTP basic auth (application-only `client_credentials`), then bearer-token
requests for `/r/{subreddits}/search/` and `/r/{subreddits}/comments/`
answered with `Listing`s of `t3` and `t1` things, newest first, paged by
`after` and `limit`; the `x-ratelimit-used/remaining/reset` headers on every
answer; and Reddit's error bodies: `{"message": ..., "error": status}`, with
`www-authenticate` on a 401.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from connectors.testing import BRAND, FakePlatform, Reply, Request

TOKEN_PATH = "/api/v1/access_token"
LISTING = re.compile(r"^/r/(?P<subreddits>[\w+]+)/(?P<what>search|comments)/?$")
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
WINDOW_REQUESTS = 1000
SUBSCRIBERS = {"voltmart": 18_412, "gadgets": 21_034_117}
AUTHORS = [("maya_builds", "t2_9x1kq"), ("dan_okafor", "t2_4bz7m"), ("quietreader", "t2_1m2n3")]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"message": message, "error": status}, headers or {})


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50]


class FakeReddit(FakePlatform):
    client_id = "p-jcoLKBynTLew"
    client_secret = "gko_LXELoV07ZBNUXrvWZfzE3aI"
    user_agent = "python:reputation-monitor-tests:v0.1 (by u/voltmart_cx)"

    def __init__(self) -> None:
        super().__init__()
        self.things: list[dict[str, Any]] = []  # {"kind": "t3"|"t1", "data": {...}}, oldest first
        self.access_token = (
            "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIn0"
        )
        self.tokens_issued = 0
        self._serial = 0
        self._used = 0

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDDIT_CLIENT_ID": self.client_id,
            "REDDIT_CLIENT_SECRET": self.client_secret,
            "REDDIT_USER_AGENT": self.user_agent,
        }

    # The dataset: submissions, comments on them, replies to the comments.

    def publish(self, count: int) -> list[str]:
        return [self._next_thing()["data"]["name"] for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.things[len(self.things) - count :]
        del self.things[len(self.things) - count :]
        return [thing["data"]["name"] for thing in gone]

    def _next_thing(self) -> dict[str, Any]:
        self._serial += 1
        submissions = [t for t in self.things if t["kind"] == "t3"]
        comments = [t for t in self.things if t["kind"] == "t1"]
        author, author_fullname = AUTHORS[self._serial % len(AUTHORS)]
        created = (START + timedelta(minutes=self._serial)).timestamp()
        subreddit = "voltmart" if self._serial % 2 else "gadgets"
        if not submissions or self._serial % 3 == 1:
            thing = self.submission(subreddit, author, author_fullname, created)
        else:
            link = submissions[-1]["data"]
            parent = comments[-1]["data"] if self._serial % 3 == 0 and comments else link
            thing = self.comment(link, parent, author, author_fullname, created)
        self.things.append(thing)
        return thing

    def submission(self, subreddit: str, author: str, author_fullname: str, created: float) -> dict[str, Any]:
        thing_id = base36(int("1hq0000", 36) + self._serial)
        title = f"{BRAND} refused my refund for a swollen Voltbook battery ({self._serial})"
        permalink = f"/r/{subreddit}/comments/{thing_id}/{_slug(title)}/"
        return {
            "kind": "t3",
            "data": {
                "approved_at_utc": None,
                "subreddit": subreddit,
                "selftext": "Three weeks, four support tickets, no answer. Anyone else?",
                "author_fullname": author_fullname,
                "title": title,
                "subreddit_name_prefixed": f"r/{subreddit}",
                "name": f"t3_{thing_id}",
                "upvote_ratio": 0.94,
                "ups": 40 + self._serial,
                "score": 40 + self._serial,
                "num_comments": 2,
                "created": created,
                "created_utc": created,
                "domain": f"self.{subreddit}",
                "is_self": True,
                "over_18": False,
                "stickied": False,
                "locked": False,
                "link_flair_text": None,
                "id": thing_id,
                "author": author,
                "permalink": permalink,
                "url": f"https://www.reddit.com{permalink}",
                "subreddit_id": f"t5_{base36(SUBSCRIBERS[subreddit])}",
                "subreddit_subscribers": SUBSCRIBERS[subreddit],
                "subreddit_type": "public",
            },
        }

    def comment(
        self, link: dict[str, Any], parent: dict[str, Any], author: str, author_fullname: str, created: float
    ) -> dict[str, Any]:
        thing_id = base36(int("m3k0000", 36) + self._serial)
        return {
            "kind": "t1",
            "data": {
                "subreddit_id": link["subreddit_id"],
                "link_title": link["title"],
                "subreddit": link["subreddit"],
                "link_author": link["author"],
                "replies": "",
                "id": thing_id,
                "author": author,
                "parent_id": parent["name"],
                "score": 3 + self._serial,
                "ups": 3 + self._serial,
                "author_fullname": author_fullname,
                "body": f"Same here, {BRAND} support closed my ticket without reading it.",
                "link_id": link["name"],
                "permalink": f"{link['permalink']}{thing_id}/",
                "link_permalink": link["url"],
                "link_url": link["url"],
                "name": f"t1_{thing_id}",
                "created": created,
                "created_utc": created,
                "subreddit_name_prefixed": link["subreddit_name_prefixed"],
                "controversiality": 0,
                "is_submitter": author == link["author"],
                "over_18": False,
                "stickied": False,
                "num_comments": link["num_comments"],
            },
        }

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path != TOKEN_PATH

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.path == TOKEN_PATH:
            return self._token(request)
        if request.headers.get("authorization") != f"bearer {self.access_token}":
            return self.fault_reply("unauthorized", request)
        self._used += 1
        match = LISTING.match(request.path)
        if request.method != "GET" or match is None:
            return _error(404, "Not Found", self._rate_headers())
        subreddits = [name.lower() for name in match["subreddits"].split("+")]
        things = self._search(subreddits, request.query) if match["what"] == "search" else self._comments(subreddits)
        return Reply(200, self._listing(things, request.query, fault), self._rate_headers())

    def _token(self, request: Request) -> Reply:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = dict(parse_qsl(request.body.decode()))
        if request.method != "POST" or request.headers.get("authorization") != f"Basic {expected}":
            return _error(401, "Unauthorized")
        if form.get("grant_type") != "client_credentials":
            return Reply(200, {"error": "unsupported_grant_type"})
        self.tokens_issued += 1
        return Reply(
            200, {"access_token": self.access_token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def _search(self, subreddits: list[str], params: dict[str, str]) -> list[dict[str, Any]]:
        restrict = params.get("restrict_sr", "").lower() in {"on", "true", "1"} and subreddits != ["all"]
        words = [w for w in re.findall(r"\w+", params.get("q", "").lower()) if w not in {"or", "and", "not"}]
        return [
            thing
            for thing in reversed(self.things)
            if thing["kind"] == "t3"
            and (not restrict or thing["data"]["subreddit"] in subreddits)
            and any(w in f"{thing['data']['title']} {thing['data']['selftext']}".lower() for w in words)
        ]

    def _comments(self, subreddits: list[str]) -> list[dict[str, Any]]:
        return [
            thing
            for thing in reversed(self.things)
            if thing["kind"] == "t1" and (subreddits == ["all"] or thing["data"]["subreddit"] in subreddits)
        ]

    def _listing(self, things: list[dict[str, Any]], params: dict[str, str], fault: str | None) -> dict[str, Any]:
        after = params.get("after")
        if after:
            names = [thing["data"]["name"] for thing in things]
            things = things[names.index(after) + 1 :] if after in names else []
        limit = int(params.get("limit", 25))
        page = things[: min(limit, 100, self.page_size)]
        next_after = page[-1]["data"]["name"] if page and len(things) > len(page) else None
        if fault == "repeat_page" and after:
            next_after = after
        return {
            "kind": "Listing",
            "data": {
                "after": next_after,
                "dist": len(page),
                "modhash": "",
                "geo_filter": "",
                "children": page,
                "before": None,
            },
        }

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-remaining": f"{WINDOW_REQUESTS - self._used:.1f}",
            "x-ratelimit-reset": "300",
        }

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            headers = {
                "x-ratelimit-used": str(WINDOW_REQUESTS),
                "x-ratelimit-remaining": "0.0",
                "x-ratelimit-reset": str(self.retry_after_seconds),
            }
            return _error(429, "Too Many Requests", headers)
        if fault == "server_error":
            return _error(500, "Internal Server Error", self._rate_headers())
        if fault == "unauthorized":
            return _error(401, "Unauthorized", {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        return super().fault_reply(fault, request)


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"
