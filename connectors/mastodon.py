"""Mastodon: statuses from one server's full-text search and hashtag timelines, through Mastodon.py.

Two kinds of listing, each scanned newest first with its own cursor in the
state (`connectors.kit`), keyed "search" and "#<tag>":

    GET /api/v2/search?q=...&type=statuses    options.search (default true): the query
    GET /api/v1/timelines/tag/:hashtag         each of options.hashtags

A run reads every listing in turn and yields each status once, even when both
the search and a hashtag find it.

Paging. Hashtag timelines page with the `Link` header Mastodon sends
(`<...?max_id=...>; rel="next"`); the next page's `max_id` is the page token.
Search sends no `Link` header: it pages by `offset` (the token), which Mastodon
only allows to an authenticated user. Mastodon drops hits a user may not see
from a search page after counting them, so a page can come back short; the
next offset is advanced by what came back (overlap is dropped, never a gap)
and the scan ends on an empty page. A server that ignores `offset` and sends
the same page again stops the scan with `BadResponse`. `max_id`/`min_id` are
not used for search: Mastodon turns them into second-precision date filters.
Neither listing is given `since_id`: the scan stops at the first page reaching
the cursor, which costs fewer requests than letting the server filter.

Ids. Status ids are local to the server read: native ids are "<host>:<id>"
(host of options.instance, else of base_url), and parents and authors use the
same form. A reply's parent is `in_reply_to_id`; Mastodon gives no
conversation root, so `root_id` stays unset and the spread step finds the
root through the parents. A boost (`reblog`) is a RESHARE of the boosted
status, whose words it carries; a quote post (Mastodon 4.4+ `quote`, or a
shallow quote's `quoted_status_id`) is a QUOTE of the quoted status, when the
quote's author allowed it to be shown. Text is the content warning and the
content HTML as a reader sees it (`html.parser`), without the "RE: <link>"
line Mastodon adds to quote posts for older clients.

Mastodon.py. `ratelimit_method="throw"`: the framework's `RetryPolicy` owns
waiting. Mastodon.py 2.3.3 makes no request when it is built, but with
`version_check_mode="none"` it looks the server's version up
(`GET /api/v1/instance/` and `/api/v2/instance/`) before a paged search, and a
failed lookup turns later pages into version errors; so the connector tells
it the version to assume (`mastodon_version`, checked in "created" mode,
which only refuses endpoints newer than that). A hashtag timeline still makes
it read `GET /api/v2/instance/` once per run (cached; a failure there is
ignored). It parses dates with dateutil into aware datetimes whose zone
depends on the host's zone names (tzlocal, tzutc or tzoffset) and turns
unreadable ones into None; `kit.utc` normalises them. A session hook keeps
the last HTTP response, for the rate-limit headers, the `Link` header and the
status as the server sent it (`Mention.raw`). Mastodon.py has no logger; its
`debug_requests` mode prints every request's headers, the bearer token
included, to stdout, so it stays off.

Known limits: full-text search of statuses needs a user token (scope
`read:search`) and a server with Elasticsearch/OpenSearch, and finds only
public posts of accounts that opted in to search, plus the user's own and
those they interacted with; a query that is one word starting with "#" or
containing "@" searches no statuses at all (use options.hashtags). Hashtag
timelines hold what the server knows of (its users and the accounts they
follow) and reach back to the first such status: a first run reads all of it
(bounded per run by `limit`; later runs finish that backlog before reading
newer statuses). Edits keep the status id, so a scan from the cursor does not
see them again. Non-Mastodon servers whose ids are not numbers (Pleroma,
GoToSocial) are not supported.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub
from connectors.html import html_to_text
from connectors.http import USER_AGENT, retry_after_header
from connectors.kit import Page, ScanCursor, scan_newest_first, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import mastodon
    import requests
    from mastodon import errors as mastodon_errors
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `mastodon` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
else:
    MISSING_LIBRARY = None

TOKEN_VARIABLE = "MASTODON_ACCESS_TOKEN"
TIMEOUT_SECONDS = 30.0
MAX_PAGE_SIZE = 40  # the most Mastodon returns per request, for timelines and search alike
# The version Mastodon.py is told to assume (see the module docstring): every endpoint used here is older.
ASSUMED_VERSION = "4.0.0"
HASHTAG = re.compile(r"[\w\u00b7\u200c]+")  # Mastodon's hashtag characters: word characters, middle dot, ZWNJ

# (the status as Mastodon.py parsed it, the status as the server sent it)
Item = tuple[Mapping[str, Any], dict[str, Any]]


@dataclass
class _Stream:
    """One listing read in a run: the search, or one hashtag timeline."""

    key: str  # its cursor's key in the state
    label: str  # how messages name it
    query: str  # Mention.query of what it finds
    tag: str | None = None  # None: the search
    problems: list[str] = field(default_factory=list)  # items of the current page that were skipped
    previous_page: list[str] = field(default_factory=list)  # search: ids of the page before
    oldest: int | None = None  # search: oldest id this scan has seen


class MastodonConnector:
    platform: ClassVar[str] = "mastodon"
    credentials: ClassVar[tuple[str, ...]] = (TOKEN_VARIABLE,)

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[mastodon]'")
        self.token = settings.env.get(TOKEN_VARIABLE, "")
        if not self.token:
            raise AuthenticationFailed(
                f"source {settings.name!r}: set {TOKEN_VARIABLE} to a Mastodon user access token "
                "(scopes read:statuses and read:search; full-text search needs a signed-in user)"
            )
        options = settings.options
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        instance = _instance(options.get("instance"), settings.name)
        api_root = (settings.base_url or instance or "").rstrip("/")
        if not api_root:
            raise ConnectorError(
                f"source {self.name!r}: set options.instance to the Mastodon server to read, like https://mastodon.social"
            )
        self.host = (urlsplit(instance or api_root).netloc or api_root).lower()
        self.hashtags = _hashtags(options.get("hashtags"), self.name)
        self.search = options.get("search", True)
        if not isinstance(self.search, bool):
            raise ConnectorError(f"source {self.name!r}: options.search must be true or false")
        if not self.search and not self.hashtags:
            raise ConnectorError(f"source {self.name!r}: options.search is false and options.hashtags is empty")
        self.page_size = _page_size(options.get("page_size", MAX_PAGE_SIZE), self.name)
        timeout = _timeout(options.get("timeout_seconds", TIMEOUT_SECONDS), self.name)
        self.retry = retry or RetryPolicy.from_options(options)
        self.last_response: requests.Response | None = None
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self.api = mastodon.Mastodon(
            access_token=self.token,
            api_base_url=api_root,
            ratelimit_method="throw",
            request_timeout=timeout,
            mastodon_version=ASSUMED_VERSION,
            version_check_mode="created",
            session=session,
            user_agent=USER_AGENT,
            debug_requests=False,
        )

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        query = query or self.query
        if self.search and not query:
            raise ConnectorError(
                f"source {self.name!r}: Mastodon search needs a query (or set options.search: false and list hashtags)"
            )
        current = dict(state or {})
        seen: set[str] = set()
        taken = 0
        for stream in self._streams(query):
            remaining = None if self.limit is None else self.limit - taken
            if remaining is not None and remaining <= 0:
                return
            scan = scan_newest_first(
                self._pager(stream, remaining),
                ScanCursor.from_state(current.get(stream.key)),
                item_id=lambda item: str(item[0]["id"]),
                order=int,
                limit=remaining,
                where=stream.label,
            )
            for items, after in scan:
                current[stream.key] = after.to_state()
                mentions, problems = self._mentions(items, stream, seen)
                taken += len(items)
                yield FetchedBatch(mentions=mentions, state=dict(current), problems=problems)
            if stream.problems:  # skipped items of a last page the scan had no reason to yield
                yield FetchedBatch(mentions=[], state=dict(current), problems=stream.problems)

    def _streams(self, query: str) -> list[_Stream]:
        streams = [_Stream("search", "Mastodon search", query)] if self.search else []
        for tag in self.hashtags:
            streams.append(_Stream(f"#{tag.lower()}", f"Mastodon #{tag} timeline", f"#{tag}", tag=tag))
        return streams

    def _pager(self, stream: _Stream, remaining: int | None) -> Callable[[str | None], Page[Item]]:
        size = self.page_size if remaining is None else max(1, min(self.page_size, remaining))
        tag = stream.tag
        if tag is None:
            return lambda token: self.retry.call(lambda: self._search_page(stream, token, size), stream.label)
        return lambda token: self.retry.call(lambda: self._tag_page(stream, tag, token, size), stream.label)

    # The two listings.

    def _tag_page(self, stream: _Stream, tag: str, token: str | None, size: int) -> Page[Item]:
        statuses = self._call(lambda: self.api.timeline_hashtag(tag, max_id=token, limit=size), stream.label)
        if not isinstance(statuses, list):
            raise BadResponse(f"{stream.label}: Mastodon answered with JSON that is not a list of statuses")
        sent = self._sent_json()
        return Page(items=self._items(statuses, sent, stream), next_token=self._next_max_id())

    def _search_page(self, stream: _Stream, token: str | None, size: int) -> Page[Item]:
        offset = int(token) if token and token.isdigit() else 0
        result = self._call(
            lambda: self.api.search_v2(
                stream.query,
                resolve=False,  # no WebFinger lookups of remote accounts or posts
                result_type="statuses",
                offset=offset or None,
                limit=size,
                exclude_unreviewed=False,  # a hashtag-only filter
            ),
            stream.label,
        )
        statuses = result.get("statuses") if isinstance(result, Mapping) else None
        if not isinstance(statuses, list):
            raise BadResponse(f"{stream.label}: Mastodon answered with JSON that is not a search result")
        ids = [str(status.get("id")) for status in statuses if isinstance(status, Mapping)]
        if ids and ids == stream.previous_page:
            raise BadResponse(f"{stream.label}: the server sent the same page for offset {offset}; stopped paging")
        sent = self._sent_json()
        items = self._items(statuses, sent.get("statuses") if isinstance(sent, dict) else None, stream)
        if stream.oldest is not None:
            # Hits Mastodon hid after counting them make consecutive pages overlap.
            items = [item for item in items if int(item[0]["id"]) < stream.oldest]
        stream.previous_page = ids
        if items:
            stream.oldest = min(int(item[0]["id"]) for item in items)
        return Page(items=items, next_token=str(offset + len(statuses)) if statuses else None)

    def _items(self, statuses: Sequence[Any], sent: Any, stream: _Stream) -> list[Item]:
        """The statuses with numeric ids, each beside its JSON as sent; the others become problems."""
        as_sent = {str(raw.get("id")): raw for raw in sent or [] if isinstance(raw, dict)}
        items: list[Item] = []
        for status in statuses:
            status_id = str(status.get("id") or "") if isinstance(status, Mapping) else ""
            if not status_id.isdigit():
                stream.problems.append(f"mastodon:{self.host}:{status_id or '?'}: not a Mastodon status id")
                continue
            items.append((status, as_sent.get(status_id) or json.loads(json.dumps(status, default=str))))
        return items

    # HTTP: what Mastodon.py received, and its exceptions.

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response

    def _sent_json(self) -> Any:
        try:
            return self.last_response.json() if self.last_response is not None else None
        except ValueError:
            return None

    def _next_max_id(self) -> str | None:
        """`max_id` of the `Link` header's rel="next" URL: Mastodon sends one with every non-empty page."""
        link = self.last_response.links.get("next", {}) if self.last_response is not None else {}
        values = parse_qs(urlsplit(str(link.get("url", ""))).query).get("max_id")
        return values[0] if values else None

    def _call(self, operation: Callable[[], Any], label: str) -> Any:
        self.last_response = None
        try:
            return operation()
        except mastodon_errors.MastodonError as error:
            raise self._translate(error, label) from None

    def _translate(self, error: Exception, label: str) -> ConnectorError:
        """Mastodon.py's exceptions, in the framework's taxonomy; messages never carry the token."""
        detail = scrub(str(error), [self.token])
        response = self.last_response
        if isinstance(error, mastodon_errors.MastodonRatelimitError):
            if response is not None and response.status_code == 429:
                return RateLimited(f"{label}: Mastodon rate limit reached (HTTP 429)", _rate_limit_wait(response))
            return BadResponse(f"{label}: Mastodon.py could not read the rate-limit headers ({detail})")
        if isinstance(error, mastodon_errors.MastodonNetworkError):
            cause = error.__cause__ or error.__context__
            return Transient(f"{label}: Mastodon did not answer: {type(cause or error).__name__}")
        if isinstance(error, mastodon_errors.MastodonAPIError):
            return self._http_error(error, label)
        return ConnectorError(f"{label}: Mastodon.py refused the request: {detail}")

    def _http_error(self, error: Exception, label: str) -> ConnectorError:
        args = error.args
        status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
        if status is None:
            # Raised for a body that is not JSON; the message quotes the body.
            return BadResponse(f"{label}: Mastodon answered with a body that is not JSON")
        words = str(args[3] if len(args) > 3 and args[3] else args[2] if len(args) > 2 else "")
        said = f"HTTP {status}" + (f": {scrub(' '.join(words.split())[:200], [self.token])}" if words else "")
        if status == 401:
            return AuthenticationFailed(f"{label}: Mastodon rejected the access token in {TOKEN_VARIABLE} ({said})")
        if status == 403:
            return AuthenticationFailed(
                f"{label}: Mastodon refused this access token ({said}); it needs read:statuses and read:search"
            )
        if status == 429:
            return RateLimited(f"{label}: Mastodon rate limit reached ({said})", _rate_limit_wait(self.last_response))
        if status in (408, 425) or status >= 500:
            return Transient(f"{label}: Mastodon is failing ({said})")
        if status == 404:
            return ConnectorError(f"{label}: Mastodon has no such endpoint ({said}); is {self.host} a Mastodon server?")
        return ConnectorError(f"{label}: Mastodon rejected the request ({said})")

    # Statuses -> mentions.

    def _mentions(self, items: list[Item], stream: _Stream, seen: set[str]) -> tuple[list[Mention], list[str]]:
        problems, stream.problems = stream.problems, []
        mentions: list[Mention] = []
        for status, raw in items:
            native_id = self._id(status["id"])
            if native_id in seen:  # found by an earlier listing of this run
                continue
            seen.add(native_id)
            try:
                mentions.append(self._mention(status, raw, stream.query))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                problems.append(f"mastodon:{native_id}: {type(error).__name__}: {error}")
        return mentions, problems

    def _mention(self, status: Mapping[str, Any], raw: dict[str, Any], query: str) -> Mention:
        reblog = status.get("reblog")
        shown = reblog if isinstance(reblog, Mapping) else status  # whose words the mention carries
        created_at = status.get("created_at")
        if not isinstance(created_at, datetime | str):
            raise ValueError(f"created_at is not a readable time: {raw.get('created_at')!r}")
        kind, parent_id = self._kind(status)
        quote = status.get("quote")
        quoted = _quoted_id(quote) if isinstance(quote, Mapping) and not isinstance(reblog, Mapping) else None
        language = shown.get("language")
        return Mention(
            platform=self.platform,
            native_id=self._id(status["id"]),
            kind=kind,
            url=self._url(status, shown),
            text=_status_text(shown),
            created_at=utc(created_at),
            author=self._author(status["account"]),
            parent_id=parent_id,
            root_id=None,  # Mastodon names no conversation root; the spread step follows the parents
            quoted_id=self._id(quoted) if quoted else None,
            metrics=Metrics(
                likes=_count(status, "favourites_count"),
                reshares=_count(status, "reblogs_count"),
                replies=_count(status, "replies_count"),
            ),
            language=str(language) if language else None,
            query=query or None,
            raw=raw,
        )

    def _kind(self, status: Mapping[str, Any]) -> tuple[Kind, str | None]:
        reblog = status.get("reblog")
        if isinstance(reblog, Mapping):
            return Kind.RESHARE, self._id(reblog["id"])
        if status.get("in_reply_to_id"):
            return Kind.REPLY, self._id(status["in_reply_to_id"])
        quote = status.get("quote")
        if isinstance(quote, Mapping):
            quoted = _quoted_id(quote)
            return Kind.QUOTE, self._id(quoted) if quoted else None
        return Kind.POST, None

    def _author(self, account: Mapping[str, Any]) -> Author:
        acct = str(account.get("acct") or account.get("username") or "")
        followers = account.get("followers_count")
        return Author(
            id=self._id(account["id"]),
            # acct has no domain for the server's own users; the handle gets one so it means the same everywhere.
            handle=acct if "@" in acct or not acct else f"{acct}@{self.host}",
            followers=followers if isinstance(followers, int) and followers >= 0 else None,
        )

    def _url(self, status: Mapping[str, Any], shown: Mapping[str, Any]) -> str:
        for candidate in (status.get("url"), shown.get("url"), shown.get("uri")):
            if isinstance(candidate, str) and candidate.startswith("https://"):
                return candidate
        acct = str((status.get("account") or {}).get("acct") or "")
        return f"https://{self.host}/@{acct}/{status['id']}"

    def _id(self, local_id: Any) -> str:
        if local_id is None or str(local_id) == "":
            raise ValueError("an id is missing")
        return f"{self.host}:{local_id}"


def _quoted_id(quote: Mapping[str, Any]) -> str | None:
    quoted = quote.get("quoted_status")
    if isinstance(quoted, Mapping) and quoted.get("id"):
        return str(quoted["id"])
    if quote.get("quoted_status_id"):  # a ShallowQuote, as in a quote nested in a quote
        return str(quote["quoted_status_id"])
    return None


def _count(status: Mapping[str, Any], name: str) -> int | None:
    value = status.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _status_text(status: Mapping[str, Any]) -> str:
    warning = str(status.get("spoiler_text") or "").strip()
    # The "RE: <link>" paragraph of a quote post is for clients that cannot show quotes.
    body = html_to_text(str(status.get("content") or ""), hidden_classes={"quote-inline"})
    return "\n\n".join(part for part in (warning, body) if part)


def _rate_limit_wait(response: requests.Response | None) -> float | None:
    """Seconds until Mastodon's `X-RateLimit-Reset` (an ISO time), measured on the server's clock (`Date`)."""
    if response is None:
        return None
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    if reset and not reset.isdigit():
        try:
            reset_at = utc(reset)
            date = response.headers.get("Date")
            now = utc(date) if date else datetime.fromtimestamp(time.time(), UTC)
        except ValueError:
            pass
        else:
            return max(0.0, (reset_at - now).total_seconds())
    # Epoch seconds (GoToSocial) or Retry-After.
    return retry_after_header(response)


def _instance(value: Any, source: str) -> str | None:
    """options.instance as an https URL with no path, or None."""
    if value is None or value == "":
        return None
    text = str(value).strip().rstrip("/")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.netloc or parts.path or parts.query:
        raise ConnectorError(
            f"source {source!r}: options.instance must be the https URL of a Mastodon server, "
            f"like https://mastodon.social (got {value!r})"
        )
    return f"https://{parts.netloc.lower()}"


def _hashtags(value: Any, source: str) -> list[str]:
    if value is None:
        return []
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise ConnectorError(f"source {source!r}: options.hashtags must be a list of hashtags")
    tags: list[str] = []
    for name in names:
        tag = str(name).strip().lstrip("#")
        if not HASHTAG.fullmatch(tag):
            raise ConnectorError(f"source {source!r}: options.hashtags: {name!r} is not a hashtag")
        if tag.lower() not in {known.lower() for known in tags}:
            tags.append(tag)
    return tags


def _page_size(value: Any, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ConnectorError(f"source {source!r}: options.page_size must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return value


def _timeout(value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConnectorError(f"source {source!r}: options.timeout_seconds must be a number of seconds above 0")
    return float(value)
