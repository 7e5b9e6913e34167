"""RSS and Atom feeds: every entry of the configured feeds (news sites, blogs, forums), through feedparser.

What: each entry of each feed in `options.feeds` becomes a POST; `query`, when
set, is one more feed URL (so `reputation fetch rss --query URL` works). A
relative URL is resolved against `base_url`. The feeds are not searched: the
brand rules keep the entries that mention a brand. Text is the title, a blank
line and the fullest body the entry carries as plain text, cut at 20,000
characters: the longest of its contents and summaries (a podcast's show notes in
`content:encoded` over its `itunes:summary`, a description when the summary
detail is empty), never a Media RSS description (a photo caption); the author
is the feed's host and the author's name; `query` on the mention is the feed's
URL.

How: a plain `GET` of the feed through `HttpClient`, so failures map like every
other connector's; the body is read in chunks and refused beyond
`options.max_bytes` or after `timeout_seconds` in all. feedparser only ever
parses those bytes, wrapped in a stream (handed bare bytes, it would try to
open them as a local file name). A body that is no feed at all (an HTML page)
is a `BadResponse`; an entry that cannot be read is reported in `problems`.
Paged feeds are followed, newest first, through RFC 5005 `<link rel="next">`
(Atom) or `<atom:link rel="next">` (RSS 2.0, e.g. WordPress `?paged=2`) on the
same host, down to the first page holding an entry seen before, or
`options.max_pages`; a next link that repeats a page is a `BadResponse`.

Ids: `native_id` is the entry's id (Atom `id`, RSS `guid`) when it is an
http(s), `tag:` or `urn:` URI, which the formats make globally unique, so an
entry in two feeds of a site is one mention; any other id is hashed with the
feed URL (`sha256:...`), since "42" is only unique within its feed. Without an
id: the entry's link, else a hash of feed URL, title and date.

Cursor, per feed URL: the validators of the feed's first page (ETag,
Last-Modified), sent back as If-None-Match / If-Modified-Since so an unchanged
feed costs a 304; and short fingerprints of (id, updated) of the newest 1,000
entries yielded. Feeds are not reliably ordered, so entries are filtered by
fingerprint, not by date, and an entry whose `updated` changed comes through
again (same native_id, new text); RSS 2.0 items have no `updated`, so for them
a changed title, text or pubDate counts. A scan stopped halfway (`limit`, a
failure) keeps the next page to read in `in_progress`, with the fingerprints
it yielded, and the validators move only when a scan completes. A `limit`
reached in one feed makes the next run start at the feed after it.

    {"feeds": {"https://blog.example/feed.atom": {"etag": "\\"5f2a\\"", "last_modified": "Thu, 08 Jan 2026 ...",
               "seen": ["9c1d0e7a52b4f3aa", ...], "in_progress": {"next": "...?page=2", "pages": 1, ...}}}}

Dates: `published`, else `updated`, through `kit.utc` (RSS 2822 dates with any
zone, Atom 3339), else feedparser's parsed UTC time; a date without a zone is
UTC. An entry with no date at all gets the time it was first fetched (the
store keeps the first `created_at`), so a dateless feed's backlog is dated at
its first run; one whose dates are all unreadable is a problem.

Known limits: a feed shows only its latest entries (often 10-50), so entries
published and gone between two runs are never seen. An Atom entry edited
without a new `updated` is not noticed, nor an edit on a page below the first
one holding a seen entry; an RSS 2.0 item whose text changes on every request
(a view counter) comes through on every run. A paged feed that is not newest
first is read only down to the first page holding a seen entry, and a later
scan that reads `max_pages` without reaching one says so in `problems`
(entries may have been missed). RFC 5005 archives (`prev-archive`) are not
walked. Feeds behind a login are not supported (401/403 fail authentication).
One failing feed does not stop the others: the run raises the first failure
after reading the rest, and skips the other feeds of a host that rate limits.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests

from connectors.errors import BadResponse, ConnectorError, RateLimited, Transient
from connectors.html import html_to_text
from connectors.http import TIMEOUT_SECONDS, HttpClient
from connectors.kit import Watermark, WatermarkLayout, jsonable, refuse_unknown_options, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import feedparser
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `rss` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
else:
    MISSING_LIBRARY = None

log = logging.getLogger(__name__)

OPTIONS = ("feeds", "max_pages", "max_bytes", "timeout_seconds", "retry")
MAX_PAGES = 10
MAX_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
KEEP_SEEN = 1000
FINGERPRINT_CHARS = 16
MAX_ID_CHARS = 512
MAX_TEXT_CHARS = 20_000
UNIQUE_ID_SCHEMES = ("http", "https", "tag", "urn")
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_][\w-]*)?")
MEDIA_RSS_PREFIX = re.compile(r"""xmlns:([\w.-]+)\s*=\s*["']https?://search\.yahoo\.com/mrss/?["']""")
TEASER_END = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…|\.\.\.)\s*$")
CDATA = re.compile(r"\s*<!\[CDATA\[(.*)\]\]>\s*", re.S)


@dataclass(frozen=True)
class _Feed:
    url: str
    label: str  # "feed 2 (blog.example)": no path or query string, which can hold a private feed's token

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "unknown-host"


@dataclass(frozen=True)
class _Seen:
    """What complete scans leave: the feed's validators and the fingerprints yielded, newest first."""

    etag: str | None = None
    last_modified: str | None = None
    seen: tuple[str, ...] = ()

    @classmethod
    def read(cls, data: Any) -> _Seen:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            etag=_optional_text(data.get("etag")),
            last_modified=_optional_text(data.get("last_modified")),
            seen=_fingerprints(data.get("seen")),
        )

    def write(self) -> dict[str, Any]:
        return {"etag": self.etag, "last_modified": self.last_modified, "seen": list(self.seen)}


@dataclass(frozen=True)
class _Progress:
    """A scan stopped halfway: where to go on, and what it has yielded so far."""

    next_url: str
    pages: int
    etag: str | None
    last_modified: str | None
    seen: tuple[str, ...]

    @classmethod
    def read(cls, data: Any) -> _Progress | None:
        if not isinstance(data, Mapping) or not data.get("next"):
            return None
        return cls(
            next_url=str(data["next"]),
            pages=int(data.get("pages") or 0),
            etag=_optional_text(data.get("etag")),
            last_modified=_optional_text(data.get("last_modified")),
            seen=_fingerprints(data.get("seen")),
        )

    def write(self) -> dict[str, Any]:
        return {
            "next": self.next_url,
            "pages": self.pages,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "seen": list(self.seen),
        }


# A feed's cursor: `since`, what complete scans left (its fields at the top of the feed's state);
# `resume`, a scan stopped halfway (its fields in `in_progress`).
_FeedCursor = Watermark[_Seen, _Progress]
_LAYOUT: WatermarkLayout[_Seen, _Progress] = WatermarkLayout(
    read_mark=_Seen.read,
    write_mark=_Seen.write,
    read_resume=_Progress.read,
    write_resume=_Progress.write,
    resume_key=None,
    since_key=None,
    newest_key=None,
)


def _feed_cursor(state: Any) -> _FeedCursor:
    state = state if isinstance(state, Mapping) else {}
    if not isinstance(state.get("in_progress"), Mapping | None):
        state = {key: value for key, value in state.items() if key != "in_progress"}  # unreadable: start over
    return _LAYOUT.read(state)


@dataclass(frozen=True)
class _Page:
    url: str
    entries: Sequence[Any]
    feed: Mapping[str, Any]
    next_url: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool = False
    notes: list[str] = field(default_factory=list)
    captions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Step:
    mentions: list[Mention]
    problems: list[str]
    cursor: _FeedCursor
    taken: int


class RssConnector:
    platform: ClassVar[str] = "rss"
    credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[rss]'")
        options = settings.options
        self.name = settings.name
        refuse_unknown_options(options, OPTIONS, self.name, "an rss source")
        self.base_url = settings.base_url.rstrip("/") + "/" if settings.base_url else None
        self.query = settings.query
        self.limit = settings.limit
        self.max_pages = int(self._positive(options, "max_pages", MAX_PAGES, whole=True))
        self.max_bytes = int(self._positive(options, "max_bytes", MAX_BYTES, whole=True))
        self.timeout_seconds = self._positive(options, "timeout_seconds", TIMEOUT_SECONDS, whole=False)
        self.retry = retry or RetryPolicy.from_options(options)
        self.feed_urls = [self._absolute(url, f"options.feeds[{i}]") for i, url in enumerate(self._listed(options))]
        if settings.query:
            self._absolute(settings.query, "query")
        self.clients: dict[str, HttpClient] = {}

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        feeds = self._feeds(query or self.query)
        saved = (state or {}).get("feeds")
        saved = saved if isinstance(saved, Mapping) else {}
        # Feeds no longer configured are dropped from the state.
        current = {feed.url: saved[feed.url] for feed in feeds if feed.url in saved}
        order = _rotated(feeds, (state or {}).get("next_feed"))
        taken = 0
        failures: list[ConnectorError] = []
        rate_limited: set[str] = set()
        for position, feed in enumerate(order):
            if feed.host in rate_limited:
                log.warning("source %s: skipped RSS %s, its host is rate limiting us", self.name, feed.label)
                continue
            try:
                for step in self._scan(feed, _feed_cursor(current.get(feed.url))):
                    current[feed.url] = _LAYOUT.write(step.cursor)
                    taken += step.taken
                    limited = self.limit is not None and taken >= self.limit
                    after: dict[str, Any] = {"feeds": dict(current)}
                    if limited:
                        # The feed after this one goes first next time, so one busy feed cannot starve the rest.
                        after["next_feed"] = order[(position + 1) % len(order)].url
                    yield FetchedBatch(mentions=step.mentions, state=after, problems=step.problems)
                    if limited:
                        break
            except ConnectorError as error:
                failures.append(error)
                if isinstance(error, RateLimited):
                    rate_limited.add(feed.host)
                continue
            if self.limit is not None and taken >= self.limit:
                break
        for later in failures[1:]:
            log.warning("source %s: another feed failed too: %s: %s", self.name, type(later).__name__, later)
        if failures:
            raise failures[0]

    # Options and feeds.

    def _positive(self, options: Mapping[str, Any], key: str, default: float, *, whole: bool) -> float:
        value = options.get(key, default)
        valid = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not valid or value <= 0:
            kind = "a whole number" if whole else "a number"
            raise ConnectorError(f"source {self.name!r}: options.{key} must be {kind} above 0, not {value!r}")
        return float(value)

    def _listed(self, options: Mapping[str, Any]) -> list[str]:
        feeds = options.get("feeds") or []
        if isinstance(feeds, str):
            feeds = [feeds]
        if not isinstance(feeds, list | tuple) or not all(isinstance(url, str) and url.strip() for url in feeds):
            raise ConnectorError(f"source {self.name!r}: options.feeds must be a list of feed URLs")
        return [str(url) for url in feeds]

    def _absolute(self, url: str, where: str) -> str:
        text = url.strip()
        absolute = urljoin(self.base_url, text) if self.base_url else text
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = text.split("?")[0][:80]  # a query string can hold a private feed's token
            needs = " (a relative URL needs base_url)" if not parts.scheme else ""
            raise ConnectorError(f"source {self.name!r}: {where} {shown!r} is not an http(s) feed URL{needs}")
        return absolute

    def _feeds(self, query: str) -> list[_Feed]:
        urls = list(self.feed_urls)
        if query:
            urls.append(self._absolute(query, "query"))
        if not urls:
            raise ConnectorError(f"source {self.name!r}: list the feed URLs in options.feeds (or give one as query)")
        unique = list(dict.fromkeys(urls))
        return [_Feed(url, f"feed {i} ({urlsplit(url).hostname})") for i, url in enumerate(unique, start=1)]

    def _client(self, feed: _Feed) -> HttpClient:
        if feed.url not in self.clients:
            client = HttpClient(f"RSS {feed.label}", headers={"Accept": ACCEPT}, timeout_seconds=self.timeout_seconds)
            # Bodies are read in chunks, so a huge or endless answer can be refused (see `_read`).
            client.session.stream = True
            self.clients[feed.url] = client
        return self.clients[feed.url]

    # One feed: newest page first, down to entries seen before.

    def _scan(self, feed: _Feed, cursor: _FeedCursor) -> Iterator[_Step]:
        done = cursor.since or _Seen()
        known = set(done.seen)
        progress = cursor.resume
        if progress is None:
            url, pages, etag, last_modified, yielded = feed.url, 0, done.etag, done.last_modified, []
        else:
            url, pages, yielded = progress.next_url, progress.pages, list(progress.seen)
            etag, last_modified = progress.etag, progress.last_modified
        conditional = progress is None
        visited = {url}
        while True:
            page = self._fetch_page(feed, url, (etag, last_modified) if conditional else None)
            if page.not_modified:
                # Some servers leave the validators off a 304: the stored ones still hold then.
                validators = replace(
                    done, etag=page.etag or done.etag, last_modified=page.last_modified or done.last_modified
                )
                renewed = replace(cursor, since=validators)
                if renewed != cursor:
                    yield _Step([], [], renewed, 0)
                return
            if conditional:
                etag, last_modified, conditional = page.etag, page.last_modified, False
            pages += 1
            fresh, reached_known = self._fresh(feed, page, known, yielded)
            mentions, problems = self._convert(feed, page, fresh)
            problems = page.notes + problems
            next_url = page.next_url
            if reached_known or next_url is None or pages >= self.max_pages:
                if next_url and not reached_known and known:
                    problems.append(
                        f"rss:{feed.label}: read options.max_pages={self.max_pages} pages without reaching an entry "
                        "seen before; older new entries may have been missed"
                    )
                seen = tuple((yielded + list(done.seen))[:KEEP_SEEN])
                yield _Step(mentions, problems, cursor.completed(_Seen(etag, last_modified, seen)), len(fresh))
                return
            if next_url in visited:
                # Resume from the page that gave the repeated link: its entries are filtered out as yielded.
                stuck = _Progress(url, pages - 1, etag, last_modified, tuple(yielded))
                yield _Step(mentions, problems, replace(cursor, resume=stuck), len(fresh))
                raise BadResponse(
                    f"RSS {feed.label}: the feed's next link repeats a page it already gave; stopped paging"
                )
            visited.add(next_url)
            following = _Progress(next_url, pages, etag, last_modified, tuple(yielded))
            yield _Step(mentions, problems, replace(cursor, resume=following), len(fresh))
            url = next_url

    def _fresh(
        self, feed: _Feed, page: _Page, known: set[str], yielded: list[str]
    ) -> tuple[list[tuple[str, Any]], bool]:
        """The page's entries not yielded before, with their native ids; and whether it reached known ones.

        `yielded` (this scan's fingerprints) grows in place. Only entries of
        complete scans end a scan: after a resume, an offset-paged feed can
        show entries of this scan again on a later page.
        """
        fresh: list[tuple[str, Any]] = []
        reached_known = False
        already = set(yielded)
        for entry in page.entries:
            native_id = _native_id(feed.url, entry)
            fingerprint = _fingerprint(native_id, entry)
            if fingerprint in known:
                reached_known = True
            elif fingerprint not in already:
                already.add(fingerprint)
                yielded.append(fingerprint)
                fresh.append((native_id, entry))
        return fresh, reached_known

    def _convert(self, feed: _Feed, page: _Page, fresh: list[tuple[str, Any]]) -> tuple[list[Mention], list[str]]:
        mentions: list[Mention] = []
        problems: list[str] = []
        seen_at = datetime.now(UTC)
        for native_id, entry in fresh:
            try:
                mentions.append(_mention(feed, page, native_id, entry, seen_at))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                problems.append(f"rss:{native_id}: {type(error).__name__}: {str(error)[:300]}")
        return mentions, problems

    # HTTP.

    def _fetch_page(self, feed: _Feed, url: str, validators: tuple[str | None, str | None] | None) -> _Page:
        return self.retry.call(lambda: self._page(feed, url, validators), f"RSS {feed.label}")

    def _page(self, feed: _Feed, url: str, validators: tuple[str | None, str | None] | None) -> _Page:
        headers: dict[str, str] = {}
        if validators is not None:
            etag, last_modified = validators
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified  # echoed byte for byte, as the server wrote it
        response = self._client(feed).get(url, headers=headers, ok=(200, 304))
        try:
            etag_header = response.headers.get("ETag") or None
            modified_header = response.headers.get("Last-Modified") or None
            if response.status_code == 304:
                return _Page(url, [], {}, None, etag_header, modified_header, not_modified=True)
            body = self._read(feed, response)
        finally:
            response.close()
        parsed = _parse(feed, response, body)
        # Plain dicts: FeedParserDict answers a missing `updated` with `published` (and a warning).
        data = dict(parsed.get("feed") or {})
        next_url, notes = _next_link(feed, response.url or url, data)
        return _Page(
            url=response.url or url,
            entries=[dict(entry) for entry in parsed.get("entries") or [] if isinstance(entry, Mapping)],
            feed=data,
            next_url=next_url,
            etag=etag_header,
            last_modified=modified_header,
            notes=notes,
            captions=_media_captions(body, parsed.get("encoding")),
        )

    def _read(self, feed: _Feed, response: requests.Response) -> bytes:
        too_large = BadResponse(
            f"RSS {feed.label} sent more than options.max_bytes={self.max_bytes} bytes; refused "
            "(raise max_bytes if the feed really is that large)"
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        deadline = time.monotonic() + self.timeout_seconds
        chunks: list[bytes] = []
        size = 0
        try:
            # Counted after decompression: a small gzip bomb is refused as well.
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    raise Transient(f"RSS {feed.label} took more than {self.timeout_seconds:g}s to send its feed")
                chunks.append(chunk)
        except requests.exceptions.ContentDecodingError:
            raise BadResponse(f"RSS {feed.label} sent a body that does not decompress") from None
        except requests.RequestException as error:
            raise Transient(f"RSS {feed.label} broke off while sending its feed: {type(error).__name__}") from None
        return b"".join(chunks)


# Parsing the feed.


def _parse(feed: _Feed, response: requests.Response, body: bytes) -> Any:
    content_type = response.headers.get("Content-Type", "")
    headers = {"content-location": response.url, "content-type": content_type}
    if response.headers.get("Content-Language"):
        headers["content-language"] = response.headers["Content-Language"]
    # A stream, never bare bytes: feedparser tries to open a string or bytes as a file name first.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.get("version"):
        kind = content_type.split(";")[0].strip() or "no content type"
        raise BadResponse(f"RSS {feed.label} answered with something that is not an RSS or Atom feed ({kind})")
    return parsed


def _next_link(feed: _Feed, page_url: str, data: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    for link in data.get("links") or []:
        if not isinstance(link, Mapping) or link.get("rel") != "next" or not link.get("href"):
            continue
        target = urljoin(page_url, str(link["href"]))
        if urlsplit(target).netloc != urlsplit(page_url).netloc or urlsplit(target).scheme not in ("http", "https"):
            return None, [f"rss:{feed.label}: did not follow a next link to another host or scheme"]
        return target, []
    return None, []


def _native_id(feed_url: str, entry: Mapping[str, Any]) -> str:
    ident = str(entry.get("id") or "").strip()
    if ident:
        return ident if _unique_uri(ident) else _hashed(feed_url, ident)
    link = str(entry.get("link") or "").strip()
    if link and _unique_uri(link):
        return link
    return _hashed(feed_url, str(entry.get("title") or ""), str(entry.get("published") or entry.get("updated") or ""))


def _unique_uri(value: str) -> bool:
    scheme, colon, _ = value.partition(":")
    return bool(colon) and scheme.lower() in UNIQUE_ID_SCHEMES and len(value) <= MAX_ID_CHARS and value.isprintable()


def _hashed(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _fingerprint(native_id: str, entry: Mapping[str, Any]) -> str:
    """Changes when the entry does: with its `updated` stamp, or, without one (RSS 2.0), with its text."""
    stamp = entry.get("updated")
    if not stamp:
        contents = [str(c.get("value") or "") for c in entry.get("content") or [] if isinstance(c, Mapping)]
        stamp = "\n".join([str(entry.get("published") or ""), str(entry.get("title") or ""), *contents])
        stamp += "\n" + str(entry.get("summary") or "")
    return hashlib.sha256(f"{native_id}\n{stamp}".encode()).hexdigest()[:FINGERPRINT_CHARS]


def _mention(feed: _Feed, page: _Page, native_id: str, entry: Any, seen_at: datetime) -> Mention:
    title = " ".join(_text(entry.get("title_detail"), entry.get("title")).split())
    body = _body(entry, page.captions)
    text = "\n\n".join(part for part in (title, body) if part)[:MAX_TEXT_CHARS]
    if not text:
        raise ValueError("the entry has neither a title nor any text")
    name = _author_name(entry, page.feed)
    replies = str(entry.get("slash_comments") or "").strip()
    return Mention(
        platform="rss",
        native_id=native_id,
        kind=Kind.POST,
        url=_link(page.url, entry),
        text=text,
        created_at=_created_at(entry, seen_at),
        author=Author(id=f"{feed.host}/{name}" if name else feed.host, handle=name),
        metrics=Metrics(replies=int(replies) if replies.isdigit() else None),
        language=_language(entry, page.feed),
        query=feed.url,
        raw=jsonable(entry, leave_out=lambda key: key.endswith("_parsed")),  # feedparser's struct_times
    )


def _body(entry: Mapping[str, Any], captions: frozenset[str]) -> str:
    """The fullest text the entry carries.

    feedparser files every body it meets among `content` (Atom content, RSS
    content:encoded, but also itunes:summary and Media RSS descriptions, as
    text/plain) or as the summary, in document order: the first is often a
    teaser or a caption. So the longest wins, captions aside.
    """
    details = [*(entry.get("content") or []), entry.get("summary_detail")]
    texts = [_text(detail, None) for detail in details] + [_text(None, entry.get("summary"))]
    kept = [text for text in texts if text and " ".join(text.split()) not in captions]
    # A teaser's "[…]" does not make it fuller than the content it cuts; on a tie the content wins.
    return max(kept, key=lambda text: len(TEASER_END.sub("", text)), default="")


def _media_captions(body: bytes, encoding: Any) -> frozenset[str]:
    """The feed's Media RSS descriptions (photo captions), as one-line plain text.

    feedparser hands them over as an entry's content or summary with nothing to
    tell them from the article, so they are read from the feed itself.
    """
    try:
        text = body.decode(str(encoding or "utf-8"), errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    captions: set[str] = set()
    for prefix in set(MEDIA_RSS_PREFIX.findall(text)):
        tag = re.escape(prefix) + r":description"
        for found in re.finditer(rf"<{tag}\b[^>]*>(.*?)</{tag}\s*>", text, re.S):
            value = found.group(1)
            cdata = CDATA.fullmatch(value)
            value = cdata.group(1) if cdata else html.unescape(value)
            captions.add(" ".join(html_to_text(value).split()))
    return frozenset(caption for caption in captions if caption)


def _text(detail: Any, fallback: Any) -> str:
    if isinstance(detail, Mapping):
        value = str(detail.get("value") or "")
        if detail.get("type") == "text/plain":
            return value.strip()
        return html_to_text(value)
    return html_to_text(str(fallback)) if fallback else ""


def _author_name(entry: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    # An Atom entry without an author inherits the feed's.
    for source in (entry, data):
        detail = source.get("author_detail")
        name = (detail.get("name") if isinstance(detail, Mapping) else None) or source.get("author")
        if name:
            return " ".join(str(name).split())[:200]
    return ""


def _link(page_url: str, entry: Mapping[str, Any]) -> str:
    link = str(entry.get("link") or "").strip()
    if link:
        absolute = urljoin(page_url, link)
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    ident = str(entry.get("id") or "")
    return ident if urlsplit(ident).scheme in ("http", "https") else ""


def _created_at(entry: Mapping[str, Any], seen_at: datetime) -> datetime:
    unreadable: list[str] = []
    for key in ("published", "updated"):
        text = entry.get(key)
        if not text:
            continue
        try:
            return utc(str(text))
        except ValueError:
            parsed = entry.get(f"{key}_parsed")  # feedparser reads more formats, and gives them in UTC
            if parsed:
                return utc(float(calendar.timegm(parsed)))
        unreadable.append(f"{key} {str(text)[:40]!r}")
    if unreadable:
        raise ValueError(f"unreadable date: {', '.join(unreadable)}")
    return seen_at


def _language(entry: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    details = [*(entry.get("content") or []), entry.get("summary_detail"), entry.get("title_detail")]
    tags = [detail.get("language") for detail in details if isinstance(detail, Mapping)]
    for tag in [*tags, data.get("language")]:
        match = LANGUAGE.fullmatch(str(tag or "").strip())
        if match and match[1].lower() != "und":
            return match[1].lower()
    return None


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _fingerprints(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _rotated(feeds: list[_Feed], first: Any) -> list[_Feed]:
    urls = [feed.url for feed in feeds]
    start = urls.index(first) if first in urls else 0
    return feeds[start:] + feeds[:start]
