"""Trustpilot: the public reviews of one business unit, through Trustpilot's Business Units API.

The query names the business unit: its id (24 hex digits), its domain
(`voltmart.com`) or its Trustpilot page (`https://www.trustpilot.com/review/voltmart.com`).
A domain is resolved once with `GET /v1/business-units/find?name=` and the id
is kept in the cursor. Reviews come from `GET /v1/business-units/{id}/reviews`
(`orderBy=createdat.desc`, `perPage` up to 100, `page`, and the optional
`language` and `stars` filters), newest first, with the API key in the `apikey`
header so that it never appears in a URL. A review becomes a `REVIEW` mention:
its stars are the rating, its title and text the text, and the company's public
answer is `raw["owner_reply"]` (`{"text", "replied_at"}`).

The cursor. Trustpilot pages by number and cannot order by update time, so an
edited review (same id, new text and stars, a new `updatedAt`) or a new company
reply stays where its `createdAt` puts it. Each run therefore reads newest first
down to a recheck window (`options.recheck_days` before the watermark) and
yields every review whose latest change (creation, edit, reply) is later than
the watermark: the newest change the last complete scan saw, with the ids seen
at exactly that time, since Trustpilot's times often stop at the second.
`connectors.kit.scan_newest_first` stops at the newest review already seen, so
it would miss edits and replies; the scan here keeps the kit's rules otherwise:
the watermark moves only when a scan completes, and a scan cut short (a failure,
`limit`) keeps the page to resume from and the oldest review it read. It resumes
one page early and skips what it already read, so reviews pushed down by new
arrivals are not yielded twice and reviews pulled up by a deletion are not
skipped. The watermark is never later than Trustpilot's clock (its `Date`
header) when the scan began, so an edit made while a scan reads is not lost.

    {"business_unit": {"name": "voltmart.com", "id": "5f3c7d2e8a1b4c0001d2e3f4"},
     "watermark": {"at": "2026-01-08T12:07:00.000000Z", "ids": ["695f..."]},
     "in_progress": {"page": 3, "per_page": 100, "started": "...", "read_to": {...}, "newest": {...}}}

Each run reads at least the reviews of the recheck window, a request per
`page_size` of them: lower `recheck_days` for a very busy business unit.

Known limits: edits and replies to reviews created before the recheck window
are not seen (the public API offers no ordering or filter by update time); a
review that appears long after its `createdAt` (held for moderation) is
collected only if its `createdAt` or `updatedAt` is later than the watermark;
a review taken down while a run is paging can make that run miss the one that
moves up into its place (only a resumed scan steps back a page). Trustpilot
asks for at most 833 calls per 5 minutes and 10,000 per hour and documents no
rate-limit headers: a 429 is waited out for its `Retry-After` (or a reset
header) when given, else `UNADVISED_WAIT_SECONDS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError
from connectors.http import TIMEOUT_SECONDS, HttpClient, retry_after_header
from connectors.kit import MAX_PAGES_PER_RUN, Watermark, WatermarkLayout, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

API_ROOT = "https://api.trustpilot.com"
PUBLIC_URL = "https://www.trustpilot.com"
ORDER_BY = "createdat.desc"
MAX_PAGE_SIZE = 100
DEFAULT_RECHECK_DAYS = 7.0
UNADVISED_WAIT_SECONDS = 60.0
BUSINESS_UNIT_ID = re.compile(r"^[0-9a-f]{24}$")
PROFILE_PAGE = re.compile(r"^(?:https?://)?(?:[\w-]+\.)?trustpilot\.com/review/", re.IGNORECASE)
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def _retry_after(response: requests.Response) -> float:
    # Trustpilot documents soft limits per 5 minutes and per hour, not its 429's
    # headers; a short exponential backoff would only spend attempts.
    advice = retry_after_header(response)
    return UNADVISED_WAIT_SECONDS if advice is None else advice


class TrustpilotConnector:
    platform: ClassVar[str] = "trustpilot"
    credentials: ClassVar[tuple[str, ...]] = ("TRUSTPILOT_API_KEY",)

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        key = settings.env.get("TRUSTPILOT_API_KEY", "")
        if not key:
            raise AuthenticationFailed(
                f"source {settings.name!r}: set TRUSTPILOT_API_KEY to the API key of a Trustpilot application"
            )
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        options = _Options.parse(settings.name, settings.options)
        self.page_size = options.page_size
        self.filters = options.filters
        self.recheck = options.recheck
        self.retry = retry or RetryPolicy.from_options(settings.options)
        self.root = (settings.base_url or API_ROOT).rstrip("/")
        self.http = HttpClient(
            "Trustpilot",
            secrets=[key],
            headers={"apikey": key, "Accept": "application/json"},
            timeout_seconds=options.timeout_seconds,
            retry_after=_retry_after,
        )

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        name = _unit_name(query or self.query)
        if not name:
            raise ConnectorError(
                f"source {self.name!r}: the query must name a Trustpilot business unit (its domain or id)"
            )
        unit = {"name": name, "id": self._business_unit_id(name, state or {})}
        yield from self._scan(_Cursor.from_state(state, unit, self.filters), query or self.query)

    # The requests.

    def _business_unit_id(self, name: str, state: Mapping[str, Any]) -> str:
        if BUSINESS_UNIT_ID.match(name):
            return name
        cached = state.get("business_unit") or {}
        if isinstance(cached, Mapping) and cached.get("name") == name and cached.get("id"):
            return str(cached["id"])
        status, body, _ = self._get(
            "/v1/business-units/find", {"name": name}, "Trustpilot find business unit", ok=(200, 404)
        )
        if status == 404:
            raise ConnectorError(
                f"source {self.name!r}: Trustpilot has no business unit named {name!r}; "
                "use the domain shown on its Trustpilot page, or the business unit id"
            )
        unit_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(unit_id, str) or not unit_id:
            raise BadResponse("Trustpilot answered the business unit search without an id")
        return unit_id

    def _listing(self, unit_id: str, page: int) -> _Listing:
        params: dict[str, Any] = {"perPage": self.page_size, "page": page, "orderBy": ORDER_BY}
        params.update({key: list(values) for key, values in self.filters})
        _, body, date = self._get(f"/v1/business-units/{unit_id}/reviews", params, "Trustpilot reviews")
        return _Listing.parse(body, date)

    def _get(
        self, path: str, params: Mapping[str, Any], what: str, ok: tuple[int, ...] = (200,)
    ) -> tuple[int, Any, str | None]:
        """(status, JSON body when 200, Trustpilot's Date header), through the retry policy."""

        def attempt() -> tuple[int, Any, str | None]:
            try:
                response = self.http.get(self.root + path, params=params, ok=ok)
            except AuthenticationFailed as error:
                raise AuthenticationFailed(f"{error}; check TRUSTPILOT_API_KEY") from None
            body = self.http.json_of(response) if response.status_code == 200 else None
            return response.status_code, body, response.headers.get("Date")

        return self.retry.call(attempt, what)

    # The scan.

    def _scan(self, cursor: _Cursor, query: str) -> Iterator[FetchedBatch]:
        progress = cursor.progress
        if progress is None:
            progress, page = _Progress(per_page=self.page_size), 1
        elif progress.per_page != self.page_size:
            # Page numbers of another page size point elsewhere; what was read is still skipped.
            progress, page = replace(progress, per_page=self.page_size), 1
        else:
            # One page early: a review deleted since then pulls the rest of the listing up.
            page = max(1, progress.page - 1)
        horizon = cursor.watermark.at - self.recheck if cursor.watermark else None
        requested: set[int] = set()
        taken = 0
        for _ in range(MAX_PAGES_PER_RUN):
            requested.add(page)
            listing = self._listing(cursor.unit["id"], page)
            if progress.started is None and cursor.progress is None and page == 1:
                progress = replace(progress, started=listing.server_time)
            read = _read(listing.reviews, cursor, progress, query)
            progress = read.progress
            taken += len(read.mentions)
            following = listing.next_page
            past_window = horizon is not None and read.oldest is not None and read.oldest < horizon
            if following is None or not listing.reviews or past_window:
                yield read.batch(cursor.completed(progress))
                return
            if following in requested or following <= page:
                yield read.batch(cursor.resuming(replace(progress, page=page)))
                raise BadResponse(
                    f"Trustpilot reviews: the next-page link led back to page {following}; stopped paging"
                )
            page = following
            yield read.batch(cursor.resuming(replace(progress, page=page)))
            if self.limit is not None and taken >= self.limit:
                return


@dataclass(frozen=True)
class _Options:
    page_size: int
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    recheck: timedelta
    timeout_seconds: float

    @classmethod
    def parse(cls, source: str, options: Mapping[str, Any]) -> _Options:
        def bad(option: str, expected: str) -> ConnectorError:
            return ConnectorError(f"source {source!r}: options.{option} must be {expected}, not {options[option]!r}")

        page_size = options.get("page_size", MAX_PAGE_SIZE)
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise bad("page_size", f"a whole number from 1 to {MAX_PAGE_SIZE}")
        languages = _words(options.get("language"))
        if languages is None or not all(re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z]{2})?", x) for x in languages):
            raise bad("language", "a language code (en, da, pt-BR) or a list of them")
        stars = _words(options.get("stars"))
        if stars is None or not all(x in {"1", "2", "3", "4", "5"} for x in stars):
            raise bad("stars", "a star rating from 1 to 5 or a list of them")
        recheck = _number(options.get("recheck_days", DEFAULT_RECHECK_DAYS))
        if recheck is None or recheck < 0:
            raise bad("recheck_days", "a number of days, 0 or more")
        timeout = _number(options.get("timeout_seconds", TIMEOUT_SECONDS))
        if timeout is None or timeout <= 0:
            raise bad("timeout_seconds", "a number of seconds above 0")
        filters = tuple((key, values) for key, values in (("language", languages), ("stars", stars)) if values)
        return cls(page_size, filters, timedelta(days=recheck), timeout)


def _words(value: Any) -> tuple[str, ...] | None:
    """A scalar or a list of scalars as text; None when it is neither."""
    if value is None:
        return ()
    values = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(item, bool) or not isinstance(item, str | int) for item in values):
        return None
    return tuple(str(item).strip() for item in values)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _unit_name(query: str) -> str:
    """The business unit the query names: an id as is, a domain or profile link as its bare domain."""
    name = PROFILE_PAGE.sub("", query.strip())
    name = re.sub(r"^https?://", "", name, flags=re.IGNORECASE)
    return name.split("?")[0].split("#")[0].strip("/").lower()


@dataclass(frozen=True)
class _Mark:
    """A time in the listing and the reviews read exactly at it: Trustpilot's times often stop at the second."""

    at: datetime
    ids: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, data: Any) -> _Mark | None:
        if not isinstance(data, Mapping) or not data.get("at"):
            return None
        return cls(utc(str(data["at"])), frozenset(str(review_id) for review_id in data.get("ids") or []))

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.strftime(STAMP), "ids": sorted(self.ids)}

    def reaches(self, when: datetime, review_id: str) -> bool:
        """Whether a change at `when` is at or before this mark, so already known."""
        return when < self.at or (when == self.at and review_id in self.ids)

    def passed(self, when: datetime, review_id: str) -> bool:
        """Whether a review created at `when` lies above this mark, so was read earlier in the scan."""
        return when > self.at or (when == self.at and review_id in self.ids)


def _later(mark: _Mark | None, when: datetime, ids: frozenset[str]) -> _Mark:
    if mark is None or when > mark.at:
        return _Mark(when, ids)
    return _Mark(when, mark.ids | ids) if when == mark.at else mark


def _earlier(mark: _Mark | None, when: datetime, ids: frozenset[str]) -> _Mark:
    if mark is None or when < mark.at:
        return _Mark(when, ids)
    return _Mark(when, mark.ids | ids) if when == mark.at else mark


@dataclass(frozen=True)
class _Progress:
    """A scan under way: where to resume, when it began, the oldest review read and the newest change seen."""

    page: int = 1
    per_page: int = MAX_PAGE_SIZE
    started: datetime | None = None
    read_to: _Mark | None = None
    newest: _Mark | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> _Progress:
        started = data.get("started")
        return cls(
            page=int(data["page"]),
            per_page=int(data.get("per_page") or MAX_PAGE_SIZE),
            started=utc(str(started)) if started else None,
            read_to=_Mark.parse(data.get("read_to")),
            newest=_Mark.parse(data.get("newest")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "started": self.started.strftime(STAMP) if self.started else None,
            "read_to": self.read_to.to_json() if self.read_to else None,
            "newest": self.newest.to_json() if self.newest else None,
        }


def _read_progress(data: Any) -> _Progress | None:
    return _Progress.parse(data) if isinstance(data, Mapping) and data else None


# The watermark under "watermark"; the scan under way, newest change included, in `in_progress`.
_LAYOUT: WatermarkLayout[_Mark, _Progress] = WatermarkLayout(
    read_mark=_Mark.parse,
    write_mark=_Mark.to_json,
    read_resume=_read_progress,
    write_resume=_Progress.to_json,
    resume_key=None,
    since_key="watermark",
    newest_key=None,
)


@dataclass(frozen=True)
class _Cursor:
    """One business unit's and filter's listing, and how far it has been read (a `kit.Watermark`)."""

    unit: dict[str, str]
    filters: str
    scan: Watermark[_Mark, _Progress] = field(default_factory=Watermark)

    @property
    def watermark(self) -> _Mark | None:
        return self.scan.since

    @property
    def progress(self) -> _Progress | None:
        return self.scan.resume

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any] | None, unit: dict[str, str], filters: tuple[tuple[str, tuple[str, ...]], ...]
    ) -> _Cursor:
        described = "&".join(f"{key}={','.join(values)}" for key, values in filters)
        state = state or {}
        stored = state.get("business_unit")
        if not isinstance(stored, Mapping) or stored.get("id") != unit["id"] or state.get("filters", "") != described:
            # Another business unit's or another filter's listing: its cursor says nothing about this one.
            return cls(unit, described)
        try:
            return cls(unit, described, _LAYOUT.read(state))
        except (KeyError, TypeError, ValueError) as error:
            raise ConnectorError(f"trustpilot: the stored cursor is unreadable ({error}); reset the source") from None

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"business_unit": dict(self.unit)}
        if self.filters:
            state["filters"] = self.filters
        state.update(_LAYOUT.write(self.scan))
        return state

    def resuming(self, progress: _Progress) -> _Cursor:
        return replace(self, scan=replace(self.scan, resume=progress))

    def completed(self, progress: _Progress) -> _Cursor:
        mark = self.watermark
        if progress.newest is not None:
            mark = _later(mark, progress.newest.at, progress.newest.ids)
        if mark is not None and progress.started is not None and mark.at > progress.started:
            # A change later than the scan's start may be one of several made while
            # it read; the next scan yields them again rather than miss one.
            mark = _Mark(progress.started)
        return _Cursor(self.unit, self.filters, self.scan.completed(mark))


@dataclass(frozen=True)
class _Listing:
    reviews: list[dict[str, Any]]
    next_page: int | None
    server_time: datetime | None

    @classmethod
    def parse(cls, body: Any, date: str | None) -> _Listing:
        if not isinstance(body, dict) or not isinstance(body.get("reviews", []), list):
            raise BadResponse("Trustpilot answered with JSON that is not a review listing")
        reviews = body.get("reviews") or []
        if not all(isinstance(review, dict) for review in reviews):
            raise BadResponse("Trustpilot answered with a malformed `reviews` list")
        return cls(reviews, _next_page(body.get("links")), _server_time(date))


def _next_page(links: Any) -> int | None:
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next-page":
            number = parse_qs(urlsplit(str(link.get("href", ""))).query).get("page", [""])[0]
            if not number.isdigit() or int(number) < 1:
                raise BadResponse("Trustpilot's next-page link carries no page number")
            return int(number)
    return None


def _server_time(date: str | None) -> datetime | None:
    try:
        return utc(date) if date else None
    except ValueError:
        return None


@dataclass
class _Read:
    mentions: list[Mention]
    problems: list[str]
    progress: _Progress
    oldest: datetime | None
    degraded: int = 0  # reviews kept without their consumer's id

    def batch(self, cursor: _Cursor) -> FetchedBatch:
        return FetchedBatch(
            mentions=self.mentions, state=cursor.to_state(), problems=self.problems, degraded=self.degraded
        )


def _read(reviews: list[dict[str, Any]], cursor: _Cursor, progress: _Progress, query: str) -> _Read:
    """One page: reviews new or changed since the watermark become mentions; all of them move the progress."""
    read = _Read([], [], progress, None)
    before = progress.read_to  # reviews of this page are never skipped for one another
    for review in reviews:
        review_id = str(review.get("id") or "")
        try:
            if not review_id:
                raise KeyError("id")
            created, changed = _times(review)
        except (KeyError, TypeError, ValueError) as error:
            read.problems.append(f"trustpilot:{review_id or '?'}: {type(error).__name__}: {error}")
            continue
        read.oldest = created if read.oldest is None else min(read.oldest, created)
        if before is not None and before.passed(created, review_id):
            continue  # read earlier in this scan; newer reviews pushed it down
        read.progress = replace(
            read.progress,
            read_to=_earlier(read.progress.read_to, created, frozenset({review_id})),
            newest=_later(read.progress.newest, changed, frozenset({review_id})),
        )
        if cursor.watermark is not None and cursor.watermark.reaches(changed, review_id):
            continue  # unchanged since the last complete scan
        try:
            read.mentions.append(_mention(review, query))
        except (KeyError, TypeError, ValueError) as error:
            read.problems.append(f"trustpilot:{review_id}: {type(error).__name__}: {error}")
            continue
        read.degraded += not (review.get("consumer") or {}).get("id")
    return read


def _when(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a timestamp: {value!r}")
    return utc(value)


def _times(review: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """When the review was written, and when it last changed (an edit, or the company's reply)."""
    created = _when(review["createdAt"])
    reply = review.get("companyReply")
    reply = reply if isinstance(reply, Mapping) else {}
    changes = [
        _when(value) for value in (review.get("updatedAt"), reply.get("createdAt"), reply.get("updatedAt")) if value
    ]
    return created, max([created, *changes])


def _owner_reply(reply: Any) -> dict[str, Any] | None:
    if not isinstance(reply, Mapping) or not str(reply.get("text") or "").strip():
        return None
    when = reply.get("createdAt") or reply.get("updatedAt")
    return {"text": str(reply["text"]), "replied_at": _when(when).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None}


def _text(title: str, text: str) -> str:
    """The title, a blank line, the text; only the text when it already opens with the title.

    A reviewer who leaves the title out gets the opening words of the text as
    one (often cut with "..."), which would otherwise be read twice.
    """
    title, text = title.strip(), text.strip()
    opening = title.rstrip(" .…!?").casefold()
    if opening and " ".join(text.split()).casefold().startswith(" ".join(opening.split())):
        return text
    return "\n\n".join(part for part in (title, text) if part)


def _mention(review: dict[str, Any], query: str) -> Mention:
    review_id = str(review["id"])
    consumer = review.get("consumer") or {}
    # Without a consumer id the reviewer is unknown, and an author of their own (never merged with others).
    author_id = str(consumer.get("id") or f"[unknown]:{review_id}")
    text = _text(str(review.get("title") or ""), str(review.get("text") or ""))
    if not text:
        raise ValueError("no title and no text")
    stars = review.get("stars")
    raw = dict(review)
    reply = _owner_reply(review.get("companyReply"))
    if reply is not None:
        raw["owner_reply"] = reply
    return Mention(
        platform="trustpilot",
        native_id=review_id,
        kind=Kind.REVIEW,
        url=f"{PUBLIC_URL}/reviews/{review_id}",
        text=text,
        created_at=_when(review["createdAt"]),
        author=Author(id=author_id, handle=str(consumer.get("displayName") or "")),
        metrics=Metrics(likes=review.get("numberOfLikes")),
        rating=None if stars is None else float(stars),
        language=str(review["language"]) if review.get("language") else None,
        query=query,
        raw=raw,
    )
