"""A local stand-in for a Mastodon server's REST API (mastodon.social), on 127.0.0.1.

It speaks the protocol as Mastodon.py uses it:

    GET /api/v1/timelines/tag/:hashtag   statuses tagged with the hashtag, newest first; `limit` (default 20,
                                         at most 40), `max_id`, `since_id`, `min_id`; a `Link` header
                                         (`<https://mastodon.social/...?limit=..&max_id=..>; rel="next",
                                         <...?min_id=..>; rel="prev"`) on every non-empty page; behind a
                                         bearer token unless `hashtag_feeds` is "public" (then any token,
                                         even a wrong one, is ignored, as Mastodon does)
    GET /api/v2/search                   `q`, `type=statuses`, `limit`, `offset`: statuses containing every
                                         word of `q`, newest first, as `{"accounts", "statuses",
                                         "hashtags"}` (no statuses for a one-word "#tag" or "@user"
                                         query), less the `hidden` hits, which still count for the
                                         offset as the hits Mastodon filters out do; no `Link` header;
                                         a wrong token is a 401, and so is no token with `offset` or
                                         `resolve`, with Mastodon's messages
    GET /api/v2/instance/                the server's description (Mastodon.py reads it before a timeline)

Statuses are Mastodon's Status entities: string snowflake ids, `created_at` as
"2026-01-08T12:01:00.417Z", HTML `content` with Mastodon's markup (hashtag and
mention links, `invisible`/`ellipsis` spans in long links), `account` with
counts, replies with `in_reply_to_id`, and Mastodon 4.4 quote posts (`quote`:
`{"state": "accepted", "quoted_status": {...}}` and the "RE:" paragraph for old
clients). Accounts of another server (fosstodon.org) have `acct`
"user@domain" and statuses whose `url` and `uri` are on their home server.
Authenticated answers carry `X-RateLimit-Limit/Remaining/Reset` (an ISO time
with microseconds); errors are Mastodon's `{"error": "..."}` bodies: 401 (with
`WWW-Authenticate`), 400, 404, 429 and 503.

Tag timelines and search never list boosts on Mastodon, so the generated story
has none; `post` publishes any Status (a boost, odd timestamps) as given.
"""

from __future__ import annotations

import copy
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlencode

from connectors.testing import BRAND, FakePlatform, Reply, Request

DOMAIN = "mastodon.social"
INSTANCE = f"https://{DOMAIN}"
TAG_PATH = re.compile(r"^/api/v1/timelines/tag/(?P<tag>[^/]+)$")
SEARCH_PATH = "/api/v2/search"
INSTANCE_PATHS = ("/api/v2/instance", "/api/v2/instance/")
DEFAULT_LIMIT = 20
RATE_LIMIT = 300
RATE_PERIOD_SECONDS = 300
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
TRUE = {"1", "true", "on", "t", "yes"}
INVALID_TOKEN = "The access token is invalid"


def _account(
    account_id: str, username: str, domain: str, name: str, followers: int, following: int, statuses: int
) -> dict[str, Any]:
    avatar = f"https://files.mastodon.social/accounts/avatars/{account_id[:3]}/{account_id[3:]}/original/a1.png"
    return {
        "id": account_id,
        "username": username,
        "acct": username if domain == DOMAIN else f"{username}@{domain}",
        "display_name": name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": "2022-11-04T00:00:00.000Z",
        "note": "<p>Gadgets, repairs, complaints.</p>",
        "url": f"https://{domain}/@{username}",
        "uri": f"https://{domain}/users/{username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "https://mastodon.social/headers/original/missing.png",
        "header_static": "https://mastodon.social/headers/original/missing.png",
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "last_status_at": "2026-01-08",
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


ACCOUNTS = [
    _account("109302114882214761", "maya_builds", DOMAIN, "Maya", 3800, 310, 5120),
    _account("109384012331556120", "dan", "fosstodon.org", "Dan Okafor", 120, 95, 880),
    _account("108771207436615882", "gadgetdesk", DOMAIN, "Gadget Desk", 91000, 12, 40211),
]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": message}, headers or {})


def _hashtag(name: str) -> str:
    return f'<a href="https://{DOMAIN}/tags/{name.lower()}" class="mention hashtag" rel="tag">#<span>{name}</span></a>'


def _mention(account: dict[str, Any]) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{account["url"]}" class="u-url mention">'
        f"@<span>{account['username']}</span></a></span>"
    )


def _iso(when: datetime, digits: int = 3) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}"[:digits] + "Z"


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", content))


class FakeMastodon(FakePlatform):
    access_token = "k3Vq9Xw2mT7pLz0RbN4sYc8HdJf6GaUe1OiQvWxZyAo"

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[dict[str, Any]] = []  # oldest first
        self.hashtag_feeds = "authenticated"  # or "public": hashtag timelines without a token
        self.instance_requests = 0
        self.hidden: set[str] = set()  # ids search counts as hits, then leaves out of the page
        self._used = 0
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {"MASTODON_ACCESS_TOKEN": self.access_token}

    # The dataset: posts, replies, replies to replies and quote posts.

    def publish(self, count: int) -> list[str]:
        return [self.post(self._next_status()) for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.statuses[len(self.statuses) - count :]
        del self.statuses[len(self.statuses) - count :]
        return [f"{DOMAIN}:{status['id']}" for status in gone]

    def post(self, status: dict[str, Any]) -> str:
        """Publish a Status given as Mastodon's JSON; returns the connector's native id."""
        with self.lock:
            self.statuses.append(status)
            return f"{DOMAIN}:{status['id']}"

    def edit(self, native_id: str, content: str) -> None:
        status = self.find(native_id)
        status["content"] = content
        status["edited_at"] = _iso(datetime.fromisoformat(status["created_at"]) + timedelta(minutes=5))

    def find(self, native_id: str) -> dict[str, Any]:
        return next(status for status in self.statuses if f"{DOMAIN}:{status['id']}" == native_id)

    def new_id(self) -> tuple[str, datetime]:
        self._serial += 1
        created = START + timedelta(minutes=self._serial, milliseconds=417 * self._serial % 1000)
        return str((int(created.timestamp() * 1000) << 16) + self._serial), created

    def status(self, account: dict[str, Any], content: str, **fields: Any) -> dict[str, Any]:
        """A Status by `account` with the fields a Mastodon 4.5 server sends; `fields` override them."""
        status_id, created = self.new_id()
        domain = account["url"].split("/")[2]
        local = domain == DOMAIN
        origin_id = status_id if local else str(int(status_id) - 9_000_000_000 * 65536)
        status: dict[str, Any] = {
            "id": status_id,
            "created_at": _iso(created),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": f"https://{domain}/users/{account['username']}/statuses/{origin_id}",
            "url": f"https://{domain}/@{account['username']}/{origin_id}",
            "replies_count": self._serial % 3,
            "reblogs_count": self._serial % 5,
            "favourites_count": self._serial * 2,
            "quotes_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "pinned": False,
            "content": content,
            "filtered": [],
            "reblog": None,
            "application": {"name": "Web", "website": None} if local else None,
            "account": account,
            "media_attachments": [],
            "mentions": [],
            "tags": [{"name": "voltmart", "url": f"https://{DOMAIN}/tags/voltmart"}],
            "emojis": [],
            "card": None,
            "poll": None,
            "quote": None,
            "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }
        if not local:
            del status["pinned"]  # only sent for the server's own users' statuses
        status.update(fields)
        return status

    def _next_status(self) -> dict[str, Any]:
        account = ACCOUNTS[(self._serial + 1) % len(ACCOUNTS)]
        roots = [s for s in self.statuses if s["in_reply_to_id"] is None and s.get("quote") is None]
        replies = [s for s in self.statuses if s["in_reply_to_id"] is not None]
        shape = self._serial % 4  # root, reply, quote, reply to the reply, root, ...
        if not roots or shape == 0:
            return self.status(
                account,
                f"<p>{_hashtag('Voltmart')} my Voltbook battery swelled after a week and support hung up on me "
                f"&amp; closed the ticket ({self._serial + 1})</p><p>Receipt: "
                '<a href="https://voltmart.example/orders/58213/receipt" target="_blank" rel="nofollow noopener" '
                'translate="no"><span class="invisible">https://</span><span class="ellipsis">'
                'voltmart.example/orders/58213/</span><span class="invisible">receipt</span></a></p>',
            )
        root = roots[-1]
        if shape == 2:
            return self.status(
                account,
                f'<p class="quote-inline">RE: <a href="{root["url"]}">{root["url"].split("://")[1]}</a></p>'
                f"<p>{BRAND} really needs to answer this one {_hashtag('voltmart')}</p>",
                quote={"state": "accepted", "quoted_status": copy.deepcopy(root)},
            )
        parent = replies[-1] if shape == 3 and replies else root
        return self.status(
            account,
            f"<p>{_mention(parent['account'])} same here, {BRAND} ignored me for weeks {_hashtag('voltmart')}</p>",
            in_reply_to_id=parent["id"],
            in_reply_to_account_id=parent["account"]["id"],
            mentions=[{k: parent["account"][k] for k in ("id", "username", "url", "acct")}],
        )

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path == SEARCH_PATH or TAG_PATH.match(request.path) is not None

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.method != "GET":
            return _error(404, "Record not found")
        if request.path in INSTANCE_PATHS:
            self.instance_requests += 1
            return Reply(200, self._instance())
        match = TAG_PATH.match(request.path)
        if match is not None:
            return self._tag_timeline(unquote(match["tag"]), request, fault)
        if request.path == SEARCH_PATH:
            return self._search(request, fault)
        return _error(404, "Record not found")

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization")
        if not header:
            return "missing"
        return "valid" if header == f"Bearer {self.access_token}" else "invalid"

    def _tag_timeline(self, tag: str, request: Request, fault: str | None) -> Reply:
        token = self._token(request)
        if self.hashtag_feeds != "public" and token != "valid":
            return self.fault_reply("unauthorized", request)  # doorkeeper: no token and a wrong one alike
        params = request.query
        tagged = [s for s in reversed(self.statuses) if tag.lower() in {t["name"].lower() for t in s["tags"]}]
        page = self._window(tagged, params, self._limit(params))
        headers = self._rate_headers() if token == "valid" else {}
        if page:
            headers["Link"] = self._links(tag, page, params, fault)
        return Reply(200, page, headers)

    def _window(self, newest_first: list[dict[str, Any]], params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        def bound(name: str) -> int | None:
            return int(params[name]) if params.get(name, "").isdigit() else None

        max_id, since_id, min_id = bound("max_id"), bound("since_id"), bound("min_id")
        statuses = [
            s
            for s in newest_first
            if (max_id is None or int(s["id"]) < max_id) and (since_id is None or int(s["id"]) > since_id)
        ]
        if min_id is not None:
            # The statuses immediately newer than min_id, still listed newest first.
            return list(reversed([s for s in reversed(statuses) if int(s["id"]) > min_id][:limit]))
        return statuses[:limit]

    def _limit(self, params: dict[str, str]) -> int:
        text = params.get("limit", "")
        limit = abs(int(text)) if text.lstrip("-").isdigit() else DEFAULT_LIMIT
        return min(limit, DEFAULT_LIMIT * 2, self.page_size)

    def _links(self, tag: str, page: list[dict[str, Any]], params: dict[str, str], fault: str | None) -> str:
        base = f"{INSTANCE}/api/v1/timelines/tag/{quote(tag)}"
        kept = {name: params[name] for name in ("local", "limit", "only_media") if name in params}
        max_id = params["max_id"] if fault == "repeat_page" and "max_id" in params else page[-1]["id"]
        following = f"{base}?{urlencode({**kept, 'max_id': max_id})}"
        preceding = f"{base}?{urlencode({**kept, 'min_id': page[0]['id']})}"
        return f'<{following}>; rel="next", <{preceding}>; rel="prev"'

    def _search(self, request: Request, fault: str | None) -> Reply:
        token = self._token(request)
        if token == "invalid":
            return self.fault_reply("unauthorized", request)
        params = request.query
        if not params.get("q", "").strip():
            return _error(400, "param is missing or the value is empty: q")
        if token == "missing" and params.get("offset"):
            return _error(401, "Search queries pagination is not supported without authentication")
        if token == "missing" and params.get("resolve", "").lower() in TRUE:
            return _error(401, "Search queries that resolve remote resources are not supported without authentication")
        offset_text, limit_text = params.get("offset", "0"), params.get("limit", str(DEFAULT_LIMIT))
        if offset_text.startswith("-") or limit_text.startswith("-"):
            return _error(400, "Pagination values for `offset` and `limit` must be positive")
        offset, limit = int(offset_text or 0), self._limit(params)
        if fault == "repeat_page":
            offset = max(0, offset - limit)  # a server that ignores `offset`: the page before, again
        words = params["q"].lower().split()
        statuses = [
            s
            for s in reversed(self.statuses)
            if s["reblog"] is None and all(word in _plain(s["content"]).lower() for word in words)
        ]
        one_word = " " not in params["q"].strip()
        if params.get("type") not in (None, "statuses") or token == "missing":
            statuses = []  # full-text search of statuses is for signed-in users only
        elif one_word and (params["q"].startswith("#") or "@" in params["q"]):
            statuses = []  # Mastodon looks such a query up as a hashtag or an account, not in statuses
        shown = [s for s in statuses[offset : offset + limit] if s["id"] not in self.hidden]
        body = {"accounts": [], "statuses": shown, "hashtags": []}
        return Reply(200, body, self._rate_headers() if token == "valid" else {})

    def _instance(self) -> dict[str, Any]:
        feeds = {"local": self.hashtag_feeds, "remote": self.hashtag_feeds}
        return {
            "domain": DOMAIN,
            "title": "Mastodon",
            "version": "4.5.2",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "The original server operated by the Mastodon gGmbH non-profit",
            "usage": {"users": {"active_month": 287_101}},
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": f"wss://streaming.{DOMAIN}", "status": None},
                "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": feeds,
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
            },
            "registrations": {"enabled": True, "approval_required": False, "message": None},
            "api_versions": {"mastodon": 7},
            "contact": {"email": "staff@mastodon.social", "account": None},
            "rules": [],
        }

    def _rate_headers(self) -> dict[str, str]:
        self._used += 1
        now = datetime.now(UTC)
        reset = now + timedelta(seconds=RATE_PERIOD_SECONDS - int(now.timestamp()) % RATE_PERIOD_SECONDS)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - self._used)),
            "X-RateLimit-Reset": _iso(reset.replace(microsecond=0), 6),
        }

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            reset = datetime.now(UTC) + timedelta(seconds=self.retry_after_seconds)
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": _iso(reset, 6),
            }
            return _error(429, "Too many requests", headers)
        if fault == "server_error":
            return _error(503, "There was a temporary problem serving your request, please try again")
        if fault == "unauthorized":
            challenge = f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{INVALID_TOKEN}"'
            return _error(401, INVALID_TOKEN, {"WWW-Authenticate": challenge})
        return super().fault_reply(fault, request)
