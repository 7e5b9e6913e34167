"""Hacker News: stories and comments matching the query, through Algolia's HN Search API.

One endpoint, no credentials: `GET https://hn.algolia.com/api/v1/search_by_date`
with `query`, `tags` (`options.tags`, by default `(story,comment)`: comma is AND,
a parenthesised group is OR), `numericFilters`, `hitsPerPage` and `page`,
answered newest first (`created_at_i` descending) as `hits` plus `nbHits`,
`nbPages`, `hitsPerPage` and `exhaustiveNbHits`.

Stories become posts (title, then the Ask/Show HN text or the link); comments
become comments when they answer the story itself and replies when they answer
another comment, with `parent_id` the item answered and `root_id` the story, so
a thread joins one cascade whatever order its items arrive in. HN's HTML
(`comment_text`, `story_text`) is turned into plain text with `html.parser`.
HN publishes no follower counts: `Author.followers` stays unset.

The cursor. Algolia serves at most 1,000 hits per query (`paginationLimitedTo`),
so the scan never asks for a deep page: every request is page 0 of a window of
`created_at_i` that narrows as the scan goes back in time. Several items can
share a second, so a bound is a second plus the ids already read at it, and
those ids are skipped (`hitsPerPage` grows by their number, so a page always
has room for unread items). The state, in the shape of `connectors.kit`'s:

    {"since": {"created_at_i": 1767877200, "ids": ["46001234"]},
     "in_progress": {"newest": {"created_at_i": ..., "ids": [...]},
                     "before": {"created_at_i": ..., "ids": [...]}}}

`since` is the newest second of the last complete scan; the scan in progress
reads `since <= created_at_i <= before` and only promotes `newest` to `since`
on its last page, so a run stopped by its limit or a failure resumes where it
stopped, losing nothing and yielding nothing twice. A page that does not move
the window (a server ignoring it, or repeating a page) raises `BadResponse`.

Known limits: 10,000 requests an hour per IP, without rate-limit headers (a
429 without `Retry-After` waits `RATE_LIMIT_WAIT_SECONDS`); the query is
Algolia's (every word must match, the last as a prefix; "phrases" and
-exclusions; no OR); the first run reads the whole archive back to 2006 unless
`options.backfill_days` is set; edits (HN allows them for two hours) made after
an item was read are not fetched again; the HN points of a comment are never
published (`points` is null).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError
from connectors.html import html_to_text
from connectors.http import TIMEOUT_SECONDS, HttpClient, retry_after_header
from connectors.kit import MAX_PAGES_PER_RUN, Watermark, WatermarkLayout, refuse_unknown_options, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

API_ROOT = "https://hn.algolia.com"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
PLATFORM_NAME = "Hacker News search"
DEFAULT_TAGS = "(story,comment)"
HITS_PER_PAGE = 100
MAX_HITS_PER_PAGE = 1000  # Algolia's hitsPerPage ceiling, and HN Search's paginationLimitedTo
# HN Search limits each IP to 10,000 requests an hour and documents no Retry-After
# or rate-limit headers: backing off for a second or two would only hit the block again.
RATE_LIMIT_WAIT_SECONDS = 60.0
OPTIONS = ("tags", "hits_per_page", "backfill_days", "timeout_seconds", "retry")


@dataclass(frozen=True)
class _Second:
    """A bound of the scan: one `created_at_i` and the ids already read at that second."""

    at: int
    ids: frozenset[str] = frozenset()

    def with_ids(self, ids: frozenset[str]) -> _Second:
        return _Second(self.at, self.ids | ids)

    def to_state(self) -> dict[str, Any]:
        return {"created_at_i": self.at, "ids": sorted(self.ids, key=_id_order)}

    @classmethod
    def from_state(cls, value: Any, where: str) -> _Second | None:
        if value is None:
            return None
        at = value.get("created_at_i") if isinstance(value, Mapping) else None
        ids = value.get("ids", []) if isinstance(value, Mapping) else None
        if not isinstance(at, int) or isinstance(at, bool) or not isinstance(ids, list):
            raise ConnectorError(f"{where}: not a Hacker News cursor bound: {str(value)[:120]}")
        return cls(at, frozenset(str(native_id) for native_id in ids))


@dataclass(frozen=True)
class _Hit:
    id: str
    at: int
    data: dict[str, Any]


@dataclass
class _Page:
    hits: list[_Hit]
    more: bool
    problems: list[str] = field(default_factory=list)


# `since`: the newest second of the last complete scan; `newest` and `resume` (the window's upper bound,
# `before`): the scan in progress.
_Cursor = Watermark[_Second, _Second]


def _layout(where: str) -> WatermarkLayout[_Second, _Second]:
    def read(value: Any) -> _Second | None:
        return _Second.from_state(value, where)

    return WatermarkLayout(
        read_mark=read,
        write_mark=_Second.to_state,
        resume_key="before",
        read_resume=read,
        write_resume=_Second.to_state,
    )


def _numeric_filters(cursor: _Cursor) -> list[str]:
    filters = []
    if cursor.since is not None:
        filters.append(f"created_at_i>={cursor.since.at}")
    if cursor.resume is not None:
        filters.append(f"created_at_i<={cursor.resume.at}")
    return filters


def _known_at_top(cursor: _Cursor) -> frozenset[str]:
    """Ids already read at the window's newest second: they come first, so the page makes room for them."""
    known = cursor.resume.ids if cursor.resume is not None else frozenset()
    # With no upper bound yet, the newest second may still be `since` itself.
    if cursor.since is not None and (cursor.resume is None or cursor.resume.at == cursor.since.at):
        known |= cursor.since.ids
    return known


def _admits(cursor: _Cursor, hit: _Hit) -> bool:
    return (cursor.since is None or hit.at >= cursor.since.at) and (cursor.resume is None or hit.at <= cursor.resume.at)


def _has_read(cursor: _Cursor, hit: _Hit) -> bool:
    return any(
        bound is not None and hit.at == bound.at and hit.id in bound.ids for bound in (cursor.since, cursor.resume)
    )


class HackerNewsConnector:
    platform: ClassVar[str] = "hackernews"
    credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        options = settings.options
        refuse_unknown_options(options, OPTIONS, self.name, "Hacker News")
        self.tags = self._tags(options.get("tags", DEFAULT_TAGS))
        self.hits_per_page = self._whole(options, "hits_per_page", HITS_PER_PAGE, 1, MAX_HITS_PER_PAGE)
        backfill = options.get("backfill_days")
        self.backfill_days = None if backfill is None else self._number(options, "backfill_days", 0.0, 0.0)
        timeout = self._number(options, "timeout_seconds", TIMEOUT_SECONDS, 0.0)
        if timeout == 0:
            raise ConnectorError(f"source {self.name!r}: options.timeout_seconds must be more than 0")
        self.retry = retry or RetryPolicy.from_options(options)
        self.url = (settings.base_url.rstrip("/") if settings.base_url else API_ROOT) + SEARCH_PATH
        self.http = _Client(
            PLATFORM_NAME,
            headers={"Accept": "application/json"},
            timeout_seconds=timeout,
            retry_after=_retry_after,
        )

    def _tags(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or value.count("(") != value.count(")"):
            raise ConnectorError(
                f"source {self.name!r}: options.tags must be HN Search tags such as '(story,comment)' "
                f"(comma = AND, a parenthesised group = OR), not {value!r}"
            )
        return "".join(value.split())

    def _whole(self, options: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConnectorError(f"source {self.name!r}: options.{key} must be a whole number from {low} to {high}")
        return value

    def _number(self, options: Mapping[str, Any], key: str, default: float, low: float) -> float:
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < low:
            raise ConnectorError(f"source {self.name!r}: options.{key} must be a number, at least {low:g}")
        return float(value)

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        query = query or self.query
        if not query.strip():
            raise ConnectorError(f"source {self.name!r}: Hacker News search needs a query")
        where = f"source {self.name!r}"
        try:
            start = _layout(where).read(state)
        except (ValueError, TypeError, AttributeError):
            raise ConnectorError(f"{where}: not a Hacker News cursor: {str(state)[:120]}") from None
        cursor = start
        if cursor == _Cursor() and self.backfill_days is not None:
            # The floor becomes the cursor's `since`, so a first scan stopped halfway keeps it.
            cursor = _Cursor(since=_Second(int(time.time() - self.backfill_days * 86_400)))
        yield from self._scan(query, cursor, start)

    def _scan(self, query: str, cursor: _Cursor, start: _Cursor) -> Iterator[FetchedBatch]:
        taken = 0
        for _ in range(MAX_PAGES_PER_RUN):
            page = self.retry.call(functools.partial(self._page, query, cursor), PLATFORM_NAME)
            outside = [hit.id for hit in page.hits if not _admits(cursor, hit)]
            if outside:
                raise BadResponse(
                    f"{PLATFORM_NAME} answered items outside the created_at_i window asked for "
                    f"({', '.join(_numeric_filters(cursor))}): {', '.join(outside[:5])}; stopped paging"
                )
            fresh = [hit for hit in page.hits if not _has_read(cursor, hit)]
            newest = _newest(cursor.newest, fresh)
            mentions, problems = self._mentions(fresh, query)
            problems = page.problems + problems
            if not page.more:
                final = _Cursor(since=_advance(cursor.since, newest))
                if fresh or problems or final != start:
                    yield FetchedBatch(mentions=mentions, state=_layout(self.name).write(final), problems=problems)
                return
            following = _Cursor(since=cursor.since, newest=newest, resume=_lowest(page.hits, cursor.resume))
            if following.resume == cursor.resume:
                raise BadResponse(f"{PLATFORM_NAME} answered the same page again; stopped paging")
            yield FetchedBatch(mentions=mentions, state=_layout(self.name).write(following), problems=problems)
            cursor = following
            taken += len(fresh)
            if self.limit is not None and taken >= self.limit:
                return
        # A run reads at most MAX_PAGES_PER_RUN pages; the scan stays in progress for the next one.

    def _page(self, query: str, cursor: _Cursor) -> _Page:
        requested = min(MAX_HITS_PER_PAGE, self.hits_per_page + len(_known_at_top(cursor)))
        params: dict[str, str | int] = {"query": query, "tags": self.tags, "hitsPerPage": requested, "page": 0}
        filters = _numeric_filters(cursor)
        if filters:
            params["numericFilters"] = ",".join(filters)
        return _parse_page(self.http.get_json(self.url, params=params), requested)

    def _mentions(self, hits: list[_Hit], query: str) -> tuple[list[Mention], list[str]]:
        mentions: list[Mention] = []
        problems: list[str] = []
        for hit in hits:
            try:
                mentions.append(_mention(hit, query))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"hackernews:{hit.id}: {type(error).__name__}: {error}")
        return mentions, problems


class _Client(HttpClient):
    def error_for(self, response: requests.Response) -> ConnectorError:
        error = super().error_for(response)
        if isinstance(error, AuthenticationFailed):
            # HN Search takes no credentials: a refusal means this IP (or HN's own Algolia key) is blocked.
            detail = self._excerpt(response)
            return AuthenticationFailed(
                f"{PLATFORM_NAME} refused this client (HTTP {response.status_code}"
                + (f": {detail}" if detail else "")
                + "); it needs no credentials, so this IP is probably blocked (10,000 requests an hour per IP)"
            )
        return error


def _retry_after(response: requests.Response) -> float | None:
    wait = retry_after_header(response)
    return RATE_LIMIT_WAIT_SECONDS if wait is None else wait


def _parse_page(body: Any, requested: int) -> _Page:
    if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
        raise BadResponse(f"{PLATFORM_NAME} answered with JSON that is not a search response")
    hits: dict[str, _Hit] = {}
    problems: list[str] = []
    for data in body["hits"]:
        native_id = data.get("objectID") if isinstance(data, dict) else None
        at = data.get("created_at_i") if isinstance(data, dict) else None
        if not isinstance(native_id, str | int) or not isinstance(at, int) or isinstance(at, bool):
            problems.append(f"hackernews:{native_id or '?'}: a hit without objectID or created_at_i")
            continue
        hits.setdefault(str(native_id), _Hit(str(native_id), at, data))
    served = len(body["hits"])
    per_page = body.get("hitsPerPage")
    per_page = per_page if isinstance(per_page, int) and per_page > 0 else requested
    total = body.get("nbHits")
    # nbPages is not used: Algolia caps it at paginationLimitedTo / hitsPerPage, i.e. 1 for large pages.
    counted_all = body.get("exhaustiveNbHits") is True and isinstance(total, int) and total <= served
    return _Page(hits=list(hits.values()), more=served >= per_page and not counted_all, problems=problems)


def _newest(newest: _Second | None, hits: list[_Hit]) -> _Second | None:
    for hit in hits:
        if newest is None or hit.at > newest.at:
            newest = _Second(hit.at, frozenset({hit.id}))
        elif hit.at == newest.at:
            newest = newest.with_ids(frozenset({hit.id}))
    return newest


def _lowest(hits: list[_Hit], before: _Second | None) -> _Second | None:
    """The next window's upper bound: the oldest second on this page, with every id read at it."""
    if not hits:
        return before
    at = min(hit.at for hit in hits)
    ids = frozenset(hit.id for hit in hits if hit.at == at)
    if before is not None and before.at == at:
        return before.with_ids(ids)
    return _Second(at, ids)


def _advance(since: _Second | None, newest: _Second | None) -> _Second | None:
    if newest is None:
        return since
    if since is None or newest.at > since.at:
        return newest
    if newest.at == since.at:
        return since.with_ids(newest.ids)
    return since


def _id_order(native_id: str) -> tuple[int, str]:
    return (int(native_id), native_id) if native_id.isdigit() else (-1, native_id)


def _mention(hit: _Hit, query: str) -> Mention:
    data = hit.data
    author = data.get("author")
    if not isinstance(author, str) or not author:
        raise ValueError("no author (a deleted item?)")
    tags = data.get("_tags")
    tags = tags if isinstance(tags, list) else []
    created = data.get("created_at")
    created_at = utc(created) if isinstance(created, str) and created else utc(hit.at)
    parent_id: str | None = None
    root_id: str | None = None
    if "comment" in tags or (data.get("comment_text") is not None and not data.get("title")):
        text = html_to_text(str(data.get("comment_text") or ""))
        parent_id, root_id = _native(data.get("parent_id")), _native(data.get("story_id"))
        if parent_id is None:
            raise ValueError("a comment without parent_id")
        kind = Kind.COMMENT if root_id in (None, parent_id) else Kind.REPLY
    else:
        kind = Kind.POST
        body = html_to_text(str(data.get("story_text") or "")) or str(data.get("url") or "")
        text = "\n\n".join(part for part in (str(data.get("title") or "").strip(), body) if part)
    if not text.strip():
        raise ValueError("no text (a deleted or flagged item?)")
    return Mention(
        platform="hackernews",
        native_id=hit.id,
        kind=kind,
        url=ITEM_URL.format(hit.id),
        text=text,
        created_at=created_at,
        author=Author(id=author, handle=author),
        parent_id=parent_id,
        root_id=root_id,
        metrics=Metrics(score=_count(data.get("points")), replies=_count(data.get("num_comments"))),
        query=query,
        # The highlights repeat the texts with <em> around the query's words: nothing worth storing.
        raw={key: value for key, value in data.items() if key != "_highlightResult"},
    )


def _native(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return None
    return str(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
