"""Building blocks every connector shares: the incremental cursor and the newest-first scan.

Most platform searches list the newest item first and page backwards in time.
Such a scan is only complete when it reaches the newest item of the previous
complete scan (`since_id`) or the end of the listing; until then, the newest id
seen so far and the page token to resume from live in `in_progress`, and only
the page that completes the scan promotes that newest id to `since_id`. So a
run that fails or stops at its limit halfway never moves the cursor past items
it has not yielded, and the next run resumes where it stopped.

    {"since_id": "1890", "in_progress": {"newest_id": "1999", "next_token": "b26v89"}}
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Generic, TypeVar

from connectors.errors import BadResponse, ConnectorError

T = TypeVar("T")
M = TypeVar("M")
R = TypeVar("R")

MAX_PAGES_PER_RUN = 500


@dataclass(frozen=True)
class ScanCursor:
    """`since_id`: newest id of the last complete scan; `newest_id`/`next_token`: the scan in progress."""

    since_id: str | None = None
    newest_id: str | None = None
    next_token: str | None = None

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> ScanCursor:
        state = state or {}
        progress = state.get("in_progress") or {}
        return cls(
            since_id=_text(state.get("since_id")),
            newest_id=_text(progress.get("newest_id")),
            next_token=_text(progress.get("next_token")),
        )

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if self.since_id is not None:
            state["since_id"] = self.since_id
        if self.newest_id is not None or self.next_token is not None:
            state["in_progress"] = {"newest_id": self.newest_id, "next_token": self.next_token}
        return state


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Watermark(Generic[M, R]):
    """The cursor of a scan that counts only once it is complete: the "watermark + in progress" cursor.

    `since` is how far the last complete scan read (a time with the ids read at
    it, an id); while a scan is under way, `newest` is the newest mark it has
    seen and `resume` where it goes on (a page token, a lower bound). Only a
    completed scan moves `since`, so a run that fails or stops at its limit never
    moves it past what it has not yielded. `WatermarkLayout` stores it as

        {"since": <mark>, "in_progress": {"newest": <mark>, "<resume key>": <resume>}}
    """

    since: M | None = None
    newest: M | None = None
    resume: R | None = None

    def completed(self, since: M | None) -> Watermark[M, R]:
        return Watermark(since=since)


@dataclass(frozen=True)
class WatermarkLayout(Generic[M, R]):
    """How a connector's `Watermark` is written into its JSON state: where each part goes and its encoding.

    `since_key` holds the mark of the last complete scan (None: the mark is an
    object whose fields sit at the top of the state); `in_progress` holds the
    scan under way: its newest mark under `newest_key` (None: it keeps none) and
    where it resumes under `resume_key` (None: the resume point's fields sit in
    `in_progress` itself). The readers return None for an absent value and raise
    (ValueError, TypeError, or the connector's own error) for one they cannot read.
    """

    read_mark: Callable[[Any], M | None]
    write_mark: Callable[[M], Any]
    read_resume: Callable[[Any], R | None]
    write_resume: Callable[[R], Any]
    resume_key: str | None
    since_key: str | None = "since"
    newest_key: str | None = "newest"

    def read(self, state: Mapping[str, Any] | None) -> Watermark[M, R]:
        state = state or {}
        progress = state.get("in_progress") or {}
        if not isinstance(progress, Mapping):
            raise ValueError(f"in_progress is not an object: {str(progress)[:120]}")
        return Watermark(
            since=self.read_mark(state if self.since_key is None else state.get(self.since_key)),
            newest=None if self.newest_key is None else self.read_mark(progress.get(self.newest_key)),
            resume=self.read_resume(progress if self.resume_key is None else progress.get(self.resume_key)),
        )

    def write(self, cursor: Watermark[M, R]) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if cursor.since is not None:
            if self.since_key is None:
                state.update(self.write_mark(cursor.since))
            else:
                state[self.since_key] = self.write_mark(cursor.since)
        if cursor.newest is not None or cursor.resume is not None:
            progress: dict[str, Any] = {}
            if self.resume_key is None:
                progress.update({} if cursor.resume is None else self.write_resume(cursor.resume))
            else:
                progress[self.resume_key] = None if cursor.resume is None else self.write_resume(cursor.resume)
            if self.newest_key is not None:
                progress[self.newest_key] = None if cursor.newest is None else self.write_mark(cursor.newest)
            state["in_progress"] = progress
        return state


@dataclass(frozen=True)
class Page(Generic[T]):
    """One response of a newest-first listing: its items and the token of the next (older) page."""

    items: Sequence[T]
    next_token: str | None


def scan_newest_first(
    fetch_page: Callable[[str | None], Page[T]],
    cursor: ScanCursor,
    *,
    item_id: Callable[[T], str],
    order: Callable[[str], int],
    limit: int | None = None,
    where: str = "listing",
) -> Iterator[tuple[list[T], ScanCursor]]:
    """Yield (items newer than `cursor.since_id`, cursor valid once they are stored) page by page.

    `order` turns an id into a number that grows with time. Stops at `since_id`,
    at the end of the listing, after `limit` items (the scan stays in progress),
    or raises `BadResponse` when the platform hands back a page token it already
    gave in this scan (which would loop forever).
    """
    since = order(cursor.since_id) if cursor.since_id is not None else None
    newest = cursor.newest_id
    token = cursor.next_token
    tokens_seen = {token} if token else set()
    taken = 0
    yielded: set[str] = set()
    for _ in range(MAX_PAGES_PER_RUN):
        page = fetch_page(token)
        newer = [item for item in page.items if since is None or order(item_id(item)) > since]
        reached_since = len(newer) < len(page.items)
        # A platform that serves an item again on a later page (a listing shifting under
        # the scan) re-delivers it: harmless downstream, but one run yields it once.
        fresh = [item for item in newer if item_id(item) not in yielded]
        yielded.update(item_id(item) for item in fresh)
        for item in fresh:
            if newest is None or order(item_id(item)) > order(newest):
                newest = item_id(item)
        if reached_since or not page.next_token:
            # The scan is complete: what it saw newest becomes the cursor.
            final = ScanCursor(since_id=newest if newest is not None else cursor.since_id)
            if fresh or final != cursor:
                yield fresh, final
            return
        following = ScanCursor(since_id=cursor.since_id, newest_id=newest, next_token=page.next_token)
        if page.next_token in tokens_seen:
            # Resume from the token that produced this page: harmless re-delivery, nothing lost.
            yield fresh, ScanCursor(since_id=cursor.since_id, newest_id=newest, next_token=token)
            raise BadResponse(f"{where}: the platform repeated page token {page.next_token!r}; stopped paging")
        tokens_seen.add(page.next_token)
        token = page.next_token
        yield fresh, following
        taken += len(fresh)
        if limit is not None and taken >= limit:
            return


def utc(value: datetime | str | float, *, naive_zone: tzinfo = UTC) -> datetime:
    """A platform's timestamp as a UTC-aware datetime, whatever form the platform or library gives.

    Accepts a datetime, ISO 8601 text ("2026-01-08T12:00:00Z", "...+09:00", or
    without a zone), RFC 2822 text ("Thu, 08 Jan 2026 12:00:00 GMT") and epoch
    seconds. A time without a zone is read in `naive_zone`: UTC unless the
    platform documents another. Raises ValueError naming the value otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"not a timestamp: {value[:64]!r}") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed.astimezone(UTC)


def jsonable(data: Mapping[str, Any], *, leave_out: Callable[[str], bool] = lambda key: False) -> dict[str, Any]:
    """A platform's object as JSON for `Mention.raw`, whatever its client library made of it.

    Mappings and lists are walked (keys `leave_out` names are left out at every
    level); numbers, text, booleans and None stay; any other object becomes its
    text, which is what client libraries print (praw's Redditor is its name).
    """
    return {str(key): _jsonable(value, leave_out) for key, value in data.items() if not leave_out(str(key))}


def _jsonable(value: Any, leave_out: Callable[[str], bool]) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return jsonable(value, leave_out=leave_out)
    if isinstance(value, list | tuple):
        return [_jsonable(item, leave_out) for item in value]
    return str(value)


def refuse_unknown_options(options: Mapping[str, Any], known: Sequence[str], source: str, takes: str) -> None:
    """A misspelt option would silently fall back to its default; it is named instead."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConnectorError(f"source {source!r}: unknown options {unknown}; {takes} takes {list(known)}")
