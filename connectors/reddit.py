"""Reddit: submissions matching the query, and comments in the configured subreddits, through praw.

Submissions come from Reddit's search (`options.subreddits`, or site-wide);
comments from the newest-comments listing of those subreddits, since Reddit
offers no comment search: by default only comments whose text matches the
query (the project's keyword language) are kept; `options.comments: all`
keeps every one, so that the brand rules can adopt replies into threads about
the brand, and `none` skips them. Native ids are Reddit fullnames (`t3_...`,
`t1_...`), so `parent_id` and `root_id` (the submission) join a reply to its
cascade whatever order the two arrive in.

Each listing is scanned newest first with its own cursor (`connectors.kit`).
Items are read from the listing JSON praw stored on them (`vars(item)`), never
through praw's lazy attributes, which would cost a request per item.

prawcore retries 5xx answers, 401s and dropped connections itself, sleeping
with `time.sleep`, and a 429's headers make it sleep before the next request.
The framework's `RetryPolicy` owns retries, so a `Requestor` subclass (praw's
documented `requestor_class` hook) surfaces those failures at once as
prawcore's own exceptions. prawcore accepts http URLs: `base_url` becomes
praw's `oauth_url` and `reddit_url` (which also serves the token endpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub
from connectors.kit import Page, ScanCursor, jsonable, scan_newest_first
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings, keyword_matcher
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import praw
    import prawcore
    import requests
    from praw.endpoints import API_PATH
    from praw.models import Comment, Listing, Submission
    from prawcore import exceptions as reddit_errors
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `reddit` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
else:
    MISSING_LIBRARY = None

PUBLIC_URL = "https://www.reddit.com"
TIMEOUT_SECONDS = 16
COMMENT_MODES = ("matching", "all", "none")

Thing = Submission | Comment


class _FailFast(prawcore.Requestor):
    """Hands each failed exchange straight to the framework instead of prawcore's sleeping retries."""

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        try:
            response = super().request(*args, timeout=timeout, **kwargs)
        except reddit_errors.RequestException as error:
            raise Transient(f"Reddit did not answer: {type(error.original_exception).__name__}") from None
        status = response.status_code
        if status == 429:
            # Raised before prawcore's rate limiter reads the headers, so it does not sleep them out.
            raise reddit_errors.TooManyRequests(response)
        if status == 401:
            raise reddit_errors.InvalidToken(response)
        if status in prawcore.Session.RETRY_STATUSES:
            raise reddit_errors.ServerError(response)
        return response


@dataclass(frozen=True)
class _Stream:
    name: str
    path: str
    params: dict[str, str | int]


class RedditConnector:
    platform: ClassVar[str] = "reddit"
    credentials: ClassVar[tuple[str, ...]] = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[reddit]'")
        missing = [name for name in self.credentials if not settings.env.get(name)]
        if missing:
            raise AuthenticationFailed(f"source {settings.name!r}: set {', '.join(missing)} (a Reddit script app)")
        options = settings.options
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        self.secrets = [settings.env[name] for name in self.credentials[:2]]
        self.subreddits = _subreddits(options.get("subreddits"))
        self.comments = str(options.get("comments", "matching"))
        if self.comments not in COMMENT_MODES:
            raise ConnectorError(f"source {self.name!r}: options.comments must be one of {COMMENT_MODES}")
        self.page_size = max(1, min(100, int(options.get("page_size", 100))))
        self.retry = retry or RetryPolicy.from_options(options)
        base = settings.base_url.rstrip("/") if settings.base_url else None
        self.reddit = praw.Reddit(
            client_id=settings.env["REDDIT_CLIENT_ID"],
            client_secret=settings.env["REDDIT_CLIENT_SECRET"],
            user_agent=settings.env["REDDIT_USER_AGENT"],
            check_for_updates=False,
            check_for_async=False,
            timeout=int(options.get("timeout_seconds", TIMEOUT_SECONDS)),
            requestor_class=_FailFast,
            oauth_url=f"{base}/" if base else "https://oauth.reddit.com",
            reddit_url=base or PUBLIC_URL,
        )
        self.subscribers: dict[str, int] = {}

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        query = query or self.query
        if not query:
            raise ConnectorError(f"source {self.name!r}: Reddit search needs a query")
        keep = self._comment_filter(query)
        current = dict(state or {})
        taken = 0
        for stream in self._streams(query):
            remaining = None if self.limit is None else self.limit - taken
            if remaining is not None and remaining <= 0:
                return
            scan = scan_newest_first(
                self._pager(stream),
                ScanCursor.from_state(current.get(stream.name)),
                item_id=lambda thing: str(vars(thing)["name"]),
                order=lambda fullname: int(fullname.partition("_")[2], 36),
                limit=remaining,
                where=f"Reddit {stream.name}",
            )
            for things, after in scan:
                current[stream.name] = after.to_state()
                mentions: list[Mention] = []
                problems: list[str] = []
                degraded = 0
                for thing in things:
                    if isinstance(thing, Comment) and not keep(str(vars(thing).get("body", ""))):
                        continue
                    try:
                        mentions.append(self._mention(thing, query))
                    except (KeyError, TypeError, ValueError) as error:
                        problems.append(f"reddit:{vars(thing).get('name', '?')}: {type(error).__name__}: {error}")
                        continue
                    degraded += not vars(thing).get("permalink")
                taken += len(things)
                yield FetchedBatch(mentions=mentions, state=dict(current), problems=problems, degraded=degraded)

    def _streams(self, query: str) -> list[_Stream]:
        where = "+".join(self.subreddits) or "all"
        search: dict[str, str | int] = {"q": query, "sort": "new", "t": "all", "type": "link", "include_over_18": "on"}
        if self.subreddits:
            search["restrict_sr"] = "on"
        streams = [_Stream("submissions", API_PATH["search"].format(subreddit=where), search)]
        if self.subreddits and self.comments != "none":
            streams.append(_Stream("comments", f"r/{where}/comments/", {}))
        return streams

    def _comment_filter(self, query: str) -> Any:
        if self.comments != "matching":
            return lambda text: True
        try:
            return keyword_matcher(query)
        except ValueError as error:
            raise ConnectorError(f"source {self.name!r}: the query cannot filter comments: {error}") from None

    def _pager(self, stream: _Stream) -> Callable[[str | None], Page[Thing]]:
        return lambda token: self.retry.call(lambda: self._page(stream, token), f"Reddit {stream.name}")

    def _page(self, stream: _Stream, token: str | None) -> Page[Thing]:
        params = {**stream.params, "limit": self.page_size}
        if token:
            params["after"] = token
        try:
            listing = self.reddit.get(stream.path, params=params)
        except (reddit_errors.PrawcoreException, praw.exceptions.PRAWException) as error:
            raise _translate(error, self.secrets) from None
        if not isinstance(listing, Listing):
            raise BadResponse(f"Reddit {stream.name}: expected a Listing, got {type(listing).__name__}")
        things = [child for child in listing.children if isinstance(child, Submission | Comment)]
        after = getattr(listing, "after", None)
        return Page(items=things, next_token=str(after) if after else None)

    def _mention(self, thing: Thing, query: str) -> Mention:
        # vars(): the listing JSON as praw stored it; attribute access could fetch lazily.
        data = vars(thing)
        fullname = str(data["name"])
        handle = str(data["author"]) if data.get("author") is not None else ""
        author_id = data.get("author_fullname") or (f"u/{handle}" if handle else f"[deleted]:{fullname}")
        subreddit = str(data.get("subreddit", ""))
        raw = jsonable(data, leave_out=lambda key: key.startswith("_"))  # praw's own attributes
        if isinstance(thing, Submission):
            if isinstance(data.get("subreddit_subscribers"), int):
                self.subscribers[subreddit] = data["subreddit_subscribers"]
            kind, parent_id, root_id = Kind.POST, None, None
            text = "\n\n".join(part for part in (str(data["title"]), str(data.get("selftext") or "")) if part)
            replies = data.get("num_comments")
        else:
            parent_id, root_id = str(data["parent_id"]), str(data["link_id"])
            kind = Kind.COMMENT if parent_id.startswith("t3_") else Kind.REPLY
            text = str(data["body"])
            replies = None
            if subreddit in self.subscribers:
                raw.setdefault("subreddit_subscribers", self.subscribers[subreddit])
        return Mention(
            platform="reddit",
            native_id=fullname,
            kind=kind,
            url=_permalink(data, fullname, subreddit),
            text=text,
            created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
            author=Author(id=str(author_id), handle=handle),
            parent_id=parent_id,
            root_id=root_id,
            metrics=Metrics(score=data.get("score"), replies=replies),
            query=query,
            raw=raw,
        )


def _permalink(data: Mapping[str, Any], fullname: str, subreddit: str) -> str:
    """The item's address; Reddit's listings of 2016 sent comments without `permalink`, so it is rebuilt."""
    if data.get("permalink"):
        return PUBLIC_URL + str(data["permalink"])
    item_id = fullname.partition("_")[2]
    if fullname.startswith("t1_") and str(data.get("link_id", "")).startswith("t3_"):
        return f"{PUBLIC_URL}/r/{subreddit}/comments/{str(data['link_id'])[3:]}/_/{item_id}/"
    return f"{PUBLIC_URL}/comments/{item_id}/"


def _subreddits(value: Any) -> list[str]:
    if value is None:
        return []
    names = value.split("+") if isinstance(value, str) else [str(name) for name in value]
    return [name.strip().removeprefix("r/") for name in names if name.strip()]


def _translate(error: Exception, secrets: list[str]) -> ConnectorError:
    """prawcore's exceptions, in the framework's taxonomy; messages never carry credentials."""
    detail = scrub(str(error), secrets)
    response = getattr(error, "response", None)
    if isinstance(error, reddit_errors.TooManyRequests):
        advice = error.retry_after or (response.headers.get("x-ratelimit-reset") if response is not None else None)
        return RateLimited(f"Reddit rate limit reached ({detail})", float(advice) if advice else None)
    if isinstance(error, reddit_errors.ServerError):
        return Transient(f"Reddit is failing ({detail})")
    if isinstance(error, reddit_errors.InvalidToken | reddit_errors.OAuthException) or (
        isinstance(error, reddit_errors.ResponseException) and error.response.status_code == 401
    ):
        return AuthenticationFailed(f"Reddit rejected REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET ({detail})")
    if isinstance(error, reddit_errors.Forbidden | reddit_errors.InsufficientScope):
        return AuthenticationFailed(f"Reddit refused access: a private or banned subreddit? ({detail})")
    if isinstance(error, reddit_errors.NotFound | reddit_errors.Redirect):
        return ConnectorError(f"Reddit has no such subreddit or page ({detail})")
    if isinstance(error, reddit_errors.BadJSON):
        return BadResponse(f"Reddit answered with a body that is not JSON ({detail})")
    if isinstance(error, reddit_errors.RequestException):
        return Transient(f"Reddit did not answer ({type(error.original_exception).__name__})")
    return ConnectorError(f"Reddit: {type(error).__name__}: {detail}")
