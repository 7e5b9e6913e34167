"""Apple App Store: the customer reviews of one app, in each configured storefront, from Apple's public feed.

The query is the app's numeric id (`1587436210`, `id1587436210`, or its
apps.apple.com address). For every storefront in `options.countries` (default
`[us]`) the connector reads Apple's customer-reviews feed, newest first:

    GET https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json

No credentials. A page holds up to 50 reviews as `feed.entry` (a single review
arrives as an object, not a list; a page past the end has no `entry`), and
Apple serves 10 pages at most (page 11 is a 400), so a storefront shows its 500
most recent reviews and nothing older. The feed's `next`/`last` links give the
page numbers; their addresses point at the XML variant, so the connector builds
each JSON address itself and takes only the page number from them.

Each review becomes a `Kind.REVIEW` mention: `native_id` is `{country}:{review
id}`, stable and unique whatever storefronts are configured; `rating` the stars
(1-5); `text` the title, a blank line, then the body; `created_at` the entry's
`updated` (Pacific time in the feed, UTC here), which is the time of the
version shown, so an edited review carries its edit time; a review without
`updated` (Apple's feed served them so in 2020-2021) gets the time it was first
fetched, as in the RSS connector (the store keeps the first `created_at`), and
is counted as degraded; the author is the
reviewer's profile id from `author.uri` (else the name shown); `url` the app's
reviews page in that storefront, since Apple links no single review; `language`
is unknown (None): the storefront says where, not in what language; `raw` is the
feed entry plus `country`. The public feed carries no developer responses, so
`raw["owner_reply"]` is never set: answered reviews cannot be told apart here.

The cursor, per storefront, is the kit's `Watermark` with its mark stored flat
(`{"us": {"since": ..., "seen": {...}}}`, the shape it has always had): `seen`
maps each review id read to the `updated` time of the version read, and
`since` is the newest `updated` of the last complete scan. A scan reads pages
until it meets a review older than `since` minus `lookback_hours` (48 by
default), the end of the feed, or page 10, and yields only reviews whose
(id, updated) pair is not in `seen`. So an unchanged review is never yielded
twice, an edited one (same id, newer `updated`, back at the top of the feed) is
yielded again for the store to upsert, and a review that surfaces late with an
older time (review moderation, feed caches of different ages) is still caught
within the look-back. `since` moves only when a scan completes:
a run stopped by `limit` or a failure leaves it, and the next run reads from
page 1 again, skipping what `seen` holds (page numbers shift as reviews arrive,
so a remembered page would skip or repeat reviews). `seen` keeps only reviews
inside the look-back, and at most the 500 newest: an older one can no longer
appear in a feed that shows 500.

Apple documents no rate limit and no rate-limit headers for this feed. It
answers overuse with 429 or 403, mapped by `connectors.http.HttpClient`: a 429
is `RateLimited` (its Retry-After honoured when there is one, else the
framework's backoff), a 403 `AuthenticationFailed`, which is never retried: for
a feed without credentials it means Apple is refusing this client, and asking
again only prolongs that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError
from connectors.html import html_to_text
from connectors.http import HttpClient
from connectors.kit import Watermark, WatermarkLayout, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

API_ROOT = "https://itunes.apple.com"
PUBLIC_URL = "https://apps.apple.com"
PLATFORM_NAME = "Apple App Store"
MAX_PAGES = 10  # Apple answers page 11 with a 400
PAGE_SIZE = 50  # fixed by Apple
MAX_SEEN = MAX_PAGES * PAGE_SIZE
LOOKBACK_HOURS = 48.0
TIMEOUT_SECONDS = 30.0
DEFAULT_COUNTRIES = ("us",)

STOREFRONT = re.compile(r"^[a-z]{2}$")
APP_ID = re.compile(r"^(?:id)?(\d{1,12})$", re.IGNORECASE)
APP_URL = re.compile(r"^https?://(?:apps|itunes)\.apple\.com/.*/id(\d{1,12})(?:[/?#]|$)", re.IGNORECASE)
PROFILE = re.compile(r"/id(\d+)")
PAGE = re.compile(r"/page=(\d+)", re.IGNORECASE)

Entry = dict[str, Any]


class _AppleHttp(HttpClient):
    """HttpClient's mapping, with a 403 explained: the feed takes no credentials to reject."""

    def error_for(self, response: requests.Response) -> ConnectorError:
        if response.status_code != 403:
            return super().error_for(response)
        detail = self._excerpt(response)
        said = "HTTP 403" + (f": {detail}" if detail else "")
        return AuthenticationFailed(
            f"{self.platform} refused the review feed ({said}); the feed needs no credentials, "
            "so Apple is throttling or blocking this client: not retried, try again later"
        )


@dataclass(frozen=True)
class _Mark:
    """What a storefront's scans leave: `at` (newest `updated` of the last complete scan) and `seen` (id -> updated).

    Stored flat, as `{"since": <at>, "seen": {...}}`. `seen` is a record of what
    has been yielded, not a position: a scan stopped halfway may grow it (what it
    holds is stored with the same batch), while only a complete scan moves `at`.
    """

    at: str | None = None
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, state: Any) -> _Mark:
        if not isinstance(state, Mapping):
            return cls()
        seen = state.get("seen")
        stamps = {str(rid): _stamp(at) for rid, at in seen.items()} if isinstance(seen, Mapping) else {}
        return cls(at=_stamp(state.get("since")), seen={rid: at for rid, at in stamps.items() if at is not None})

    def write(self) -> dict[str, Any]:
        state: dict[str, Any] = {"seen": dict(self.seen)}
        if self.at is not None:
            state["since"] = self.at
        return state

    def floor(self, lookback: timedelta) -> str | None:
        """Reviews updated before this are older than anything a scan still has to read."""
        return None if self.at is None else _iso(utc(self.at) - lookback)


# A storefront's cursor: only `since` (the mark, its fields at the top of the storefront's state). No scan
# resumes halfway (page numbers shift as reviews arrive), so it keeps neither `newest` nor `resume`.
_Cursor = Watermark[_Mark, None]
_LAYOUT: WatermarkLayout[_Mark, None] = WatermarkLayout(
    read_mark=_Mark.read,
    write_mark=_Mark.write,
    read_resume=lambda _: None,
    write_resume=lambda _: None,
    resume_key=None,
    since_key=None,
    newest_key=None,
)


def _cursor(state: Any) -> _Cursor:
    """A storefront's stored state as its cursor; what it cannot read is forgotten (a full look-back scan)."""
    if not isinstance(state, Mapping):
        return _Cursor(since=_Mark())
    return _LAYOUT.read({key: value for key, value in state.items() if key != "in_progress"})


def _iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(value: Any) -> str | None:
    """A stored time, normalized so that equal instants compare equal as text and sort as time; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return _iso(utc(value))
    except ValueError:
        return None


def _pruned(seen: dict[str, str], floor: str | None) -> dict[str, str]:
    kept = sorted(((at, rid) for rid, at in seen.items() if floor is None or at >= floor), reverse=True)
    return {rid: at for at, rid in kept[:MAX_SEEN]}


@dataclass
class _Page:
    entries: list[Entry]
    next_page: int | None
    last_page: int | None


class AppStoreConnector:
    platform: ClassVar[str] = "appstore"
    credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        options = settings.options
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        self.countries = _countries(options.get("countries"), self.name)
        self.lookback = timedelta(hours=_number(options, "lookback_hours", LOOKBACK_HOURS, self.name))
        timeout = _number(options, "timeout_seconds", TIMEOUT_SECONDS, self.name)
        if timeout <= 0:
            raise ConnectorError(f"source {self.name!r}: options.timeout_seconds must be more than 0")
        self.retry = retry or RetryPolicy.from_options(options)
        self.root = (settings.base_url or API_ROOT).rstrip("/")
        self.http = _AppleHttp(PLATFORM_NAME, timeout_seconds=timeout)

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        app_id = _app_id(query or self.query, self.name)
        current = dict(state or {})
        taken = 0
        for country in self.countries:
            remaining = None if self.limit is None else self.limit - taken
            if remaining is not None and remaining <= 0:
                return
            scan = self._scan(app_id, country, _cursor(current.get(country)), remaining, query)
            for read, after in scan:
                current[country] = _LAYOUT.write(after)
                taken += len(read.mentions) + len(read.problems)
                yield FetchedBatch(
                    mentions=read.mentions, state=dict(current), problems=read.problems, degraded=read.undated
                )

    def _scan(
        self, app_id: str, country: str, cursor: _Cursor, limit: int | None, query: str
    ) -> Iterator[tuple[_Read, _Cursor]]:
        """Pages of one storefront's new and edited reviews, each with the cursor valid once they are stored."""
        mark = cursor.since or _Mark()
        floor = mark.floor(self.lookback)
        seen = dict(mark.seen)
        taken = 0
        number = 1
        fetched_at = _iso(datetime.now(UTC))
        while True:
            page = self._page(app_id, country, number)
            read = _read_page(page.entries, app_id, country, query, floor, seen, fetched_at)
            mentions, problems = read.mentions, read.problems
            following = page.next_page
            if following is None and page.last_page is not None:
                following = number + 1  # no `next` link, but `last` says there is more
            if (
                read.reached_floor
                or not page.entries
                or following is None
                or number >= min(page.last_page or MAX_PAGES, MAX_PAGES)
            ):
                yield read, self._completed(mark, seen)
                return
            yield read, _Cursor(since=_Mark(at=mark.at, seen=_pruned(seen, floor)))
            if following <= number:
                raise BadResponse(
                    f"{PLATFORM_NAME} {country}: page {number} names page {following} as the next; stopped paging"
                )
            taken += len(mentions) + len(problems)
            if limit is not None and taken >= limit:
                return
            number = following

    def _completed(self, mark: _Mark, seen: dict[str, str]) -> _Cursor:
        """The cursor once a scan is complete: `since` moves to the newest review read."""
        newest = max([mark.at or "", *seen.values()]) or None
        return _Cursor().completed(_Mark(at=newest, seen=_pruned(seen, _Mark(at=newest).floor(self.lookback))))

    def _page(self, app_id: str, country: str, number: int) -> _Page:
        url = f"{self.root}/{country}/rss/customerreviews/page={number}/id={app_id}/sortby=mostrecent/json"
        return self.retry.call(lambda: _parse_page(self.http.get_json(url)), f"App Store {country} reviews")


def _parse_page(body: Any) -> _Page:
    feed = body.get("feed") if isinstance(body, dict) else None
    if not isinstance(feed, dict):
        raise BadResponse(f"{PLATFORM_NAME} answered JSON that is not a customer-reviews feed")
    entries = feed.get("entry") or []  # absent past the last page
    if isinstance(entries, dict):
        entries = [entries]  # Apple's XML-to-JSON turns a lone <entry> into an object
    if not isinstance(entries, list):
        raise BadResponse(f"{PLATFORM_NAME} answered a feed whose `entry` is neither a list nor an object")
    links = feed.get("link") or []
    pages: dict[str, int] = {}
    for link in [links] if isinstance(links, dict) else links:
        attributes = link.get("attributes") if isinstance(link, dict) else None
        if isinstance(attributes, dict):
            # Only the path: the query of Apple's links repeats the request, page number included.
            found = PAGE.search(str(attributes.get("href", "")).partition("?")[0])
            if found:
                pages[str(attributes.get("rel"))] = int(found.group(1))
    return _Page(
        entries=[entry for entry in entries if isinstance(entry, dict)],
        next_page=pages.get("next"),
        last_page=pages.get("last"),
    )


@dataclass
class _Read:
    """One page read: its new and edited reviews, its problems, how many of them had no `updated`,
    and whether it reached reviews older than the floor."""

    mentions: list[Mention] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    undated: int = 0  # or kept without an author: the reviews counted as degraded
    reached_floor: bool = False


def _read_page(
    entries: list[Entry],
    app_id: str,
    country: str,
    query: str,
    floor: str | None,
    seen: dict[str, str],
    fetched_at: str,
) -> _Read:
    """The page's new and edited reviews, its problems, and whether it reached reviews older than `floor`.

    `seen` is updated with every review read, even one that cannot be turned
    into a mention: a broken entry is reported once, not on every run. A review
    without `updated` is dated when first fetched; `seen` keeps that time, so it
    is not yielded again while the look-back remembers it.
    """
    read = _Read()
    for entry in entries:
        if "im:rating" not in entry and "im:name" in entry:
            continue  # older feeds open page 1 with the app itself, not a review
        review_id = _label(entry, "id", "")
        dated = bool(_label(entry, "updated", ""))
        try:
            if not review_id:
                raise KeyError("id.label")
            updated = _iso(utc(_label(entry, "updated"))) if dated else seen.get(review_id, fetched_at)
        except (KeyError, TypeError, ValueError) as error:
            read.problems.append(f"appstore:{country}:{review_id or '?'}: {type(error).__name__}: {error}")
            continue
        if dated and floor is not None and updated < floor:
            read.reached_floor = True
        elif seen.get(review_id) != updated:
            seen[review_id] = updated
            try:
                read.mentions.append(_mention(entry, app_id, country, query, utc(updated)))
            except (KeyError, TypeError, ValueError) as error:
                read.problems.append(f"appstore:{country}:{review_id}: {type(error).__name__}: {error}")
                continue
            read.undated += not dated or not _known_author(entry)
    return read


def _known_author(entry: Entry) -> bool:
    author = entry.get("author")
    return bool(_label(author, "name", "").strip() or PROFILE.search(_label(author, "uri", "")))


def _mention(entry: Entry, app_id: str, country: str, query: str, created_at: datetime) -> Mention:
    review_id = _label(entry, "id")
    rating = int(_label(entry, "im:rating"))
    if not 1 <= rating <= 5:
        raise ValueError(f"a rating of {rating} stars")
    text = "\n\n".join(part for part in (_label(entry, "title", "").strip(), _content(entry)) if part)
    if not text:
        raise ValueError("neither a title nor a text")
    author = entry.get("author") if isinstance(entry.get("author"), dict) else {}
    name = _label(author, "name", "").strip()
    profile = PROFILE.search(_label(author, "uri", ""))
    # No profile and no name: the reviewer is unknown, and an author of their own (never merged with others).
    author_id = profile.group(1) if profile else name or f"[unknown]:{country}:{review_id}"
    helpful = int(_label(entry, "im:voteSum", "0") or 0)
    return Mention(
        platform="appstore",
        native_id=f"{country}:{review_id}",
        kind=Kind.REVIEW,
        url=f"{PUBLIC_URL}/{country}/app/id{app_id}?see-all=reviews",
        text=text,
        created_at=created_at,
        author=Author(id=author_id, handle=name),
        metrics=Metrics(likes=helpful if helpful >= 0 else None),
        rating=float(rating),
        language=None,
        query=query,
        raw={**entry, "country": country},
    )


def _label(node: Any, key: str, default: str | None = None) -> str:
    """`node[key]["label"]`, the feed's way of holding every value."""
    value = node.get(key) if isinstance(node, dict) else None
    label = value.get("label") if isinstance(value, dict) else None
    if isinstance(label, str | int | float) and not isinstance(label, bool):
        return str(label)
    if default is None:
        raise KeyError(f"{key}.label")
    return default


def _content(entry: Entry) -> str:
    """The review's body: the plain-text `content`, or an HTML one stripped, when the feed gives several."""
    value = entry.get("content")
    candidates = [item for item in (value if isinstance(value, list) else [value]) if isinstance(item, dict)]
    if not candidates:
        return ""
    chosen = next((c for c in candidates if (c.get("attributes") or {}).get("type") == "text"), candidates[0])
    text = _label({"content": chosen}, "content", "")
    if (chosen.get("attributes") or {}).get("type") == "html":
        text = html_to_text(text)
    return text.strip()


def _app_id(query: str, source: str) -> str:
    text = (query or "").strip()
    found = APP_ID.match(text) or APP_URL.match(text)
    if not found:
        raise ConnectorError(
            f"source {source!r}: the query must be the app's numeric App Store id "
            f"(1587436210, id1587436210 or its apps.apple.com address), not {text[:80]!r}"
        )
    return found.group(1)


def _countries(value: Any, source: str) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_COUNTRIES
    codes = value.split(",") if isinstance(value, str) else value
    if not isinstance(codes, list | tuple):
        raise ConnectorError(f"source {source!r}: options.countries must be a list of storefront codes, like [us, gb]")
    countries = [str(code).strip().lower() for code in codes if str(code).strip()]
    bad = [code for code in countries if not STOREFRONT.match(code)]
    if bad or not countries:
        raise ConnectorError(
            f"source {source!r}: options.countries must be two-letter storefront codes (us, gb, de...), got {value!r}"
        )
    return tuple(dict.fromkeys(countries))


def _number(options: Mapping[str, Any], key: str, default: float, source: str) -> float:
    value = options.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"source {source!r}: options.{key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or number < 0:
        raise ConnectorError(f"source {source!r}: options.{key} must be a number of at least 0, got {value!r}")
    return number
