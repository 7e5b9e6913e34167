"""X (Twitter): recent search through tweepy's API v2 `Client`.

Each run pages newest-first through `search_recent_tweets` with `since_id` as
the cursor (see `connectors.kit`); replies, quotes and retweets carry their
parent and the conversation they belong to, and authors their follower counts
from `includes.users`.

tweepy has no host option. With `base_url` set, a transport adapter mounted on
the client's `requests` session sends what tweepy addresses to
https://api.twitter.com to that URL instead, so tweepy's own request, response
and error code runs unchanged against a local server. tweepy's rate-limit
waiting stays off: the framework's `RetryPolicy` owns retries.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub
from connectors.kit import Page, ScanCursor, scan_newest_first
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import requests
    import tweepy
    from requests.adapters import HTTPAdapter
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `x` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
else:
    MISSING_LIBRARY = None

API_ROOT = "https://api.twitter.com"
TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "referenced_tweets",
    "public_metrics",
    "lang",
    "author_id",
    "in_reply_to_user_id",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["public_metrics", "username"]
TIMEOUT_SECONDS = 30.0
SNOWFLAKE_EPOCH_MS = 1288834974657  # X's epoch (2010-11-04T01:42:54.657Z), as documented for snowflake ids
KINDS = {"retweeted": Kind.RESHARE, "replied_to": Kind.REPLY, "quoted": Kind.QUOTE}

# tweepy logs every request's headers, bearer token included, at DEBUG.
logging.getLogger("tweepy.client").setLevel(logging.INFO)


class _Rehost(HTTPAdapter):
    """Sends requests for API_ROOT to `base_url`, and never waits without a timeout."""

    def __init__(self, base_url: str | None, timeout_seconds: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout_seconds = timeout_seconds

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.base_url and request.url and request.url.startswith(API_ROOT):
            request.url = self.base_url + request.url[len(API_ROOT) :]
        return super().send(request, stream, timeout or self.timeout_seconds, verify, cert, proxies)


class XConnector:
    platform: ClassVar[str] = "x"
    credentials: ClassVar[tuple[str, ...]] = ("X_BEARER_TOKEN",)

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[x]'")
        self.token = settings.env.get("X_BEARER_TOKEN", "")
        if not self.token:
            raise AuthenticationFailed(f"source {settings.name!r}: set X_BEARER_TOKEN to an X API bearer token")
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        self.page_size = int(settings.options.get("page_size", 100))
        self.retry = retry or RetryPolicy.from_options(settings.options)
        self.client = tweepy.Client(bearer_token=self.token, return_type=dict, wait_on_rate_limit=False)
        timeout = float(settings.options.get("timeout_seconds", TIMEOUT_SECONDS))
        self.client.session.mount(API_ROOT + "/", _Rehost(settings.base_url, timeout))

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        query = query or self.query
        if not query:
            raise ConnectorError(f"source {self.name!r}: X recent search needs a query")
        cursor = ScanCursor.from_state(state)
        try:
            yield from self._scan(query, cursor, [])
        except _StaleCursor:
            # X only searches 7 days back and rejects an older since_id; read the
            # whole window again (re-delivered posts are harmless upserts).
            note = f"x: since_id {cursor.since_id} is older than X's 7-day search window; read the window again"
            yield from self._scan(query, ScanCursor(), [note])

    def _scan(self, query: str, cursor: ScanCursor, notes: list[str]) -> Iterator[FetchedBatch]:
        scan = scan_newest_first(
            lambda token: self.retry.call(lambda: self._page(query, cursor.since_id, token), "X recent search"),
            cursor,
            item_id=lambda item: str(item[0]["id"]),
            order=int,
            limit=self.limit,
            where="X recent search",
        )
        for items, after in scan:
            mentions: list[Mention] = []
            problems, notes = notes, []
            degraded = 0
            for tweet, includes in items:
                try:
                    mentions.append(_mention(tweet, includes, query))
                except (KeyError, TypeError, ValueError) as error:
                    problems.append(f"x:{tweet.get('id', '?')}: {type(error).__name__}: {error}")
                    continue
                degraded += _degraded(tweet)
            yield FetchedBatch(mentions=mentions, state=after.to_state(), problems=problems, degraded=degraded)

    def _page(self, query: str, since_id: str | None, token: str | None) -> Page[tuple[dict[str, Any], _Includes]]:
        remaining = self.page_size if self.limit is None else self.limit
        params: dict[str, Any] = {
            "max_results": max(10, min(100, self.page_size, remaining)),
            "tweet_fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if token:
            params["next_token"] = token
        try:
            body = self.client.search_recent_tweets(query, **params)
        except tweepy.BadRequest as error:
            if since_id and "since_id" in str(error):
                raise _StaleCursor(scrub(str(error), [self.token])) from None
            raise _translate(error, self.token) from None
        except tweepy.TweepyException as error:
            raise _translate(error, self.token) from None
        except ValueError:  # response.json() on a body that is not JSON (requests' JSONDecodeError too)
            raise BadResponse("X answered with a body that is not JSON") from None
        except requests.RequestException as error:
            raise Transient(f"X did not answer: {type(error).__name__}") from None
        return _page(body)


class _StaleCursor(ConnectorError):
    """X refused the since_id: it is older than the 7 days recent search covers."""


class _Includes:
    """The expanded users and tweets of one response, by id."""

    def __init__(self, includes: Mapping[str, Any]) -> None:
        self.users = {str(u["id"]): u for u in includes.get("users") or [] if isinstance(u, dict) and "id" in u}
        self.tweets = {str(t["id"]): t for t in includes.get("tweets") or [] if isinstance(t, dict) and "id" in t}


def _page(body: Any) -> Page[tuple[dict[str, Any], _Includes]]:
    if not isinstance(body, dict) or not isinstance(body.get("meta", {}), dict):
        raise BadResponse("X answered with JSON that is not a search response")
    data = body.get("data") or []
    if not isinstance(data, list) or not all(isinstance(t, dict) and "id" in t for t in data):
        raise BadResponse("X answered with a malformed `data` list")
    includes = _Includes(body.get("includes") or {})
    next_token = body.get("meta", {}).get("next_token")
    return Page(items=[(tweet, includes) for tweet in data], next_token=str(next_token) if next_token else None)


def _degraded(tweet: Mapping[str, Any]) -> bool:
    """A post X delivered without the fields asked for (author, time): kept with what is known."""
    return not tweet.get("author_id") or not tweet.get("created_at")


def _created_at(tweet: Mapping[str, Any], tweet_id: str) -> datetime:
    if tweet.get("created_at"):
        return datetime.fromisoformat(str(tweet["created_at"]))
    # A post id is a snowflake: its top bits are milliseconds since X's epoch, so the
    # time it was posted is known even when `created_at` was left out.
    if not tweet_id.isdigit():
        raise ValueError("no created_at, and the id is not a snowflake")
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


_ESCAPED = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


def _text(tweet: Mapping[str, Any]) -> str:
    text = tweet.get("text")
    if not isinstance(text, str):
        raise ValueError("no text")
    # X escapes &, < and > in a post's text (recorded: "a ep &amp; show runner"); what the person wrote is
    # kept, and every surface escapes it again for its own markup. One pass, so a typed "&amp;" (sent as
    # "&amp;amp;") stays as typed.
    return _ESCAPED.sub(lambda match: _UNESCAPED[match.group(1)], text)


def _mention(tweet: dict[str, Any], includes: _Includes, query: str) -> Mention:
    tweet_id = str(tweet["id"])
    # Without author_id (a response with only id and text) the author is unknown; each
    # such post gets an author of its own, so unknown people are never merged into one.
    author_id = str(tweet.get("author_id") or f"[unknown]:{tweet_id}")
    user = includes.users.get(author_id)
    references = {ref["type"]: str(ref["id"]) for ref in tweet.get("referenced_tweets") or []}
    kind, parent_id = Kind.POST, None
    for ref_type in ("retweeted", "replied_to", "quoted"):
        if ref_type in references:
            kind, parent_id = KINDS[ref_type], references[ref_type]
            break
    if kind in (Kind.RESHARE, Kind.QUOTE) and parent_id:
        # A retweet or quote opens no conversation of its own worth following:
        # it spreads the one its parent belongs to.
        parent = includes.tweets.get(parent_id, {})
        root_id = str(parent.get("conversation_id") or parent_id)
    else:
        root_id = str(tweet.get("conversation_id") or tweet_id)
    metrics = tweet.get("public_metrics") or {}
    followers = ((user or {}).get("public_metrics") or {}).get("followers_count")
    handle = str((user or {}).get("username") or "")
    language = tweet.get("lang")
    return Mention(
        platform="x",
        native_id=tweet_id,
        kind=kind,
        url=f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}",
        text=_text(tweet),
        created_at=_created_at(tweet, tweet_id),
        author=Author(id=author_id, handle=handle, followers=followers),
        parent_id=parent_id,
        root_id=root_id,
        metrics=Metrics(
            likes=metrics.get("like_count"),
            reshares=metrics.get("retweet_count"),
            replies=metrics.get("reply_count"),
        ),
        language=language if language and language != "und" else None,
        query=query,
        raw={"tweet": tweet, "author": user},
    )


def _translate(error: tweepy.TweepyException, token: str) -> ConnectorError:
    """tweepy's exceptions, in the framework's taxonomy; messages carry X's words, never the token."""
    message = scrub(str(error).replace("\n", "; "), [token])
    if isinstance(error, tweepy.TooManyRequests):
        reset_at = getattr(error, "reset_time", None)
        wait = max(0.0, reset_at - time.time()) if reset_at else None
        return RateLimited(f"X rate limit reached ({message})", wait)
    if isinstance(error, tweepy.Unauthorized):
        return AuthenticationFailed(f"X rejected the bearer token in X_BEARER_TOKEN ({message})")
    if isinstance(error, tweepy.Forbidden):
        return AuthenticationFailed(f"X refused access to recent search for this app ({message})")
    if isinstance(error, tweepy.TwitterServerError):
        return Transient(f"X is failing ({message})")
    if isinstance(error, tweepy.BadRequest):
        return ConnectorError(f"X rejected the search request ({message})")
    return BadResponse(f"X answered unexpectedly ({message})")
