"""Bluesky: posts matching the query, through the `atproto` SDK's XRPC client.

The connector logs in with a handle and an app password
(`com.atproto.server.createSession`), then pages newest first through
`app.bsky.feed.searchPosts` (`sort=latest`, up to 100 posts a request, an
opaque offset cursor) and, unless `options.followers` is off, looks the
authors' follower counts up with `app.bsky.actor.getProfiles` (25 authors a
request, each author once per connector). Native ids are the posts' `at://`
URIs. A reply carries its parent and thread root from `record.reply`; a quote
(`app.bsky.embed.record`, or `recordWithMedia`) the quoted post as parent and
that post's thread root, read from the hydrated embed, as root.

The cursor (`connectors.kit`) orders posts by their record key, a TID: a
base32-sortable microsecond timestamp chosen by the posting client. A client
could pick a TID in the future, which would hide every later post behind it,
so each post's key is its TID capped at the time the AppView indexed it
(`indexedAt`, set by the server); `since_id` holds that key as a TID string.

Posts are read from the raw JSON, not through the SDK's strict response
models, so one malformed post is reported in `FetchedBatch.problems` instead
of failing its page. The SDK never retries; the framework's `RetryPolicy`
does. The SDK follows the PDS named in the session's DID document; with
`base_url` set, every request stays on that host instead.

Sessions: createSession is limited to 30 per 5 minutes and 300 a day per
account, so a session is kept in memory for the life of the process (keyed by
service, handle and a hash of the password, never written anywhere) and
reused by later runs, refreshed by the SDK when its access token is about to
expire, and replaced by a fresh login once if the server rejects it.

Known limits: reposts are not collected (search does not return them and
`getRepostedBy` gives no repost time; their count is in `metrics.reshares`).
Posts cannot be edited on Bluesky. Search reaches back to 2023 unless
`options.lookback_days` bounds it; posts the search index learns of late, or
whose TID is backdated (imported posts), below the newest post of the last
complete scan are not collected. The offset cursor shifts when posts arrive
or disappear mid-scan: arrivals re-deliver a few posts (harmless upserts),
deletions can skip one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub
from connectors.kit import Page, ScanCursor, scan_newest_first, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import httpx
    from atproto_client import Client, SessionEvent, models  # type: ignore[import-untyped]
    from atproto_client import exceptions as xrpc_errors
    from atproto_client.request import Request as XrpcRequest  # type: ignore[import-untyped]
    from atproto_core.exceptions import AtProtocolError  # type: ignore[import-untyped]
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `bluesky` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
else:
    MISSING_LIBRARY = None

SERVICE = "https://bsky.social"
PUBLIC_URL = "https://bsky.app"
POST_COLLECTION = "app.bsky.feed.post"
SEARCH = "app.bsky.feed.searchPosts"
PROFILES = "app.bsky.actor.getProfiles"
PROFILES_PER_REQUEST = 25
TIMEOUT_SECONDS = 30.0
# The server's answers to an access or refresh token it no longer accepts (400 from a PDS, 401 from the AppView).
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired", "AccountTakedown"}
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
CLOCK_BITS = 10


class BlueskyConnector:
    platform: ClassVar[str] = "bluesky"
    credentials: ClassVar[tuple[str, ...]] = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[bluesky]'")
        missing = [name for name in self.credentials if not settings.env.get(name)]
        if missing:
            raise AuthenticationFailed(
                f"source {settings.name!r}: set {', '.join(missing)} (a Bluesky handle and an app password)"
            )
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        self.handle = settings.env["BLUESKY_HANDLE"].strip().removeprefix("@")
        self.password = settings.env["BLUESKY_APP_PASSWORD"]
        options = settings.options
        self.page_size = _int_option(self.name, options, "page_size", 100, 1, 100)
        self.followers = _bool_option(self.name, options, "followers", True)
        self.lang = _text_option(self.name, options, "lang")
        self.lookback_days = _lookback_option(self.name, options)
        timeout = _float_option(self.name, options, "timeout_seconds", TIMEOUT_SECONDS)
        service = _text_option(self.name, options, "service") or SERVICE
        if not service.startswith(("https://", "http://")):
            raise ConnectorError(f"source {self.name!r}: options.service must be an http(s) URL, got {service!r}")
        self.retry = retry or RetryPolicy.from_options(options)
        # With base_url (tests, proxies) every request stays there; else the session's PDS is followed.
        self.pinned = settings.base_url.rstrip("/") if settings.base_url else None
        entry = self.pinned or service.rstrip("/")
        self.session_key = (entry, self.handle.casefold(), hashlib.sha256(self.password.encode()).hexdigest())
        self.client = Client(base_url=entry, request=XrpcRequest(timeout=timeout))
        self.client.on_session_change(self._on_session)
        self.logged_in = False
        self.session_reused = False
        self.known_followers: dict[str, int | None] = {}
        self._tokens: list[str] = []
        self._page_problems: list[str] = []

    # Collecting.

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        query = query or self.query
        if not query:
            raise ConnectorError(f"source {self.name!r}: Bluesky search needs a query")
        cursor = ScanCursor.from_state(state)
        for stored in (cursor.since_id, cursor.newest_id):
            if stored is not None and tid_value(stored) is None:
                raise ConnectorError(
                    f"source {self.name!r}: the stored cursor {stored[:40]!r} is not a Bluesky TID; reset it"
                )
        scan = scan_newest_first(
            lambda token: self._page(query, token),
            cursor,
            item_id=lambda hit: hit.key,
            order=_order,
            limit=self.limit,
            where="Bluesky search",
        )
        seen: set[str] = set()
        for hits, after in scan:
            problems, self._page_problems = self._page_problems, []
            # The offset cursor shifts when posts arrive mid-scan: one run yields each post once.
            fresh = [hit for hit in hits if hit.uri not in seen]
            seen.update(hit.uri for hit in fresh)
            if self.followers:
                self._look_up_followers(hit.did for hit in fresh)
            mentions: list[Mention] = []
            for hit in fresh:
                try:
                    mentions.append(self._mention(hit, query))
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    problems.append(f"bluesky:{hit.uri}: {type(error).__name__}: {error}")
            yield FetchedBatch(mentions=mentions, state=after.to_state(), problems=problems)

    def _page(self, query: str, token: str | None) -> Page[_Hit]:
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": min(self.page_size, self.limit or 100)}
        if token:
            params["cursor"] = token
        if self.lang:
            params["lang"] = self.lang
        if self.lookback_days is not None:
            since = datetime.now(UTC) - timedelta(days=self.lookback_days)
            params["since"] = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body = self._call(SEARCH, models.AppBskyFeedSearchPosts.Params(**params), "Bluesky search")
        posts = body.get("posts")
        next_cursor = body.get("cursor")
        if not isinstance(posts, list) or not isinstance(next_cursor, str | None):
            raise BadResponse("Bluesky search answered with JSON that is not a searchPosts response")
        hits: list[_Hit] = []
        for post in posts:
            hit = _hit(post)
            if isinstance(hit, str):
                self._page_problems.append(hit)
            else:
                hits.append(hit)
        return Page(items=hits, next_token=next_cursor or None)

    def _look_up_followers(self, dids: Iterable[str]) -> None:
        unknown = list(dict.fromkeys(did for did in dids if did not in self.known_followers))
        for start in range(0, len(unknown), PROFILES_PER_REQUEST):
            chunk = unknown[start : start + PROFILES_PER_REQUEST]
            body = self._call(PROFILES, models.AppBskyActorGetProfiles.Params(actors=chunk), "Bluesky getProfiles")
            profiles = body.get("profiles")
            if not isinstance(profiles, list):
                raise BadResponse("Bluesky getProfiles answered with JSON that is not a getProfiles response")
            self.known_followers.update(dict.fromkeys(chunk))
            for profile in profiles:
                if isinstance(profile, dict) and profile.get("did") in self.known_followers:
                    count = profile.get("followersCount")
                    valid = isinstance(count, int) and not isinstance(count, bool) and count >= 0
                    self.known_followers[profile["did"]] = count if valid else None

    def _mention(self, hit: _Hit, query: str) -> Mention:
        post, record = hit.post, hit.post["record"]
        if record.get("$type") != POST_COLLECTION:
            raise ValueError(f"record of type {record.get('$type')!r} is not a post")
        kind, parent_id, root_id = _links(post, record, hit.uri)
        author = post["author"]
        handle = str(author.get("handle") or "")
        if handle == "handle.invalid":  # the AppView's placeholder for a handle that no longer verifies
            handle = ""
        langs = record.get("langs") or []
        raw: dict[str, Any] = {"post": post}
        followers = self.known_followers.get(hit.did)
        if followers is not None:
            raw["author_followers"] = followers
        return Mention(
            platform="bluesky",
            native_id=hit.uri,
            kind=kind,
            url=f"{PUBLIC_URL}/profile/{handle or hit.did}/post/{hit.uri.rsplit('/', 1)[1]}",
            text=str(record.get("text") or ""),
            created_at=utc(str(record["createdAt"])),
            author=Author(id=hit.did, handle=handle, followers=followers),
            parent_id=parent_id,
            root_id=root_id,
            quoted_id=_quoted(record.get("embed")),
            metrics=Metrics(
                likes=post.get("likeCount"), reshares=post.get("repostCount"), replies=post.get("replyCount")
            ),
            language=str(langs[0]) if isinstance(langs, list) and langs else None,
            query=query,
            raw=raw,
        )

    # Talking to the service.

    def _call(self, nsid: str, params: Any, what: str) -> dict[str, Any]:
        return self.retry.call(lambda: self._attempt(nsid, params), what)

    def _attempt(self, nsid: str, params: Any) -> dict[str, Any]:
        self._log_in()
        try:
            return self._query(nsid, params)
        except AuthenticationFailed:
            if not self.session_reused:
                raise
        # The session kept from an earlier run was revoked or expired for good: log in afresh, once.
        _SESSIONS.forget(self.session_key)
        self.logged_in = self.session_reused = False
        self._log_in()
        return self._query(nsid, params)

    def _log_in(self) -> None:
        if self.logged_in:
            return
        kept = _SESSIONS.get(self.session_key)
        try:
            if kept:
                self.client.login(session_string=kept, fetch_bsky_profile=False)
            else:
                self.client.login(self.handle, self.password, fetch_bsky_profile=False)
        except Exception as error:  # noqa: BLE001 - every SDK and transport failure is translated below
            raise self._translate(error, login=True) from None
        self.logged_in, self.session_reused = True, bool(kept)

    def _query(self, nsid: str, params: Any) -> dict[str, Any]:
        try:
            response = self.client.invoke_query(nsid, params=params, output_encoding="application/json")
        except Exception as error:  # noqa: BLE001 - every SDK and transport failure is translated below
            raise self._translate(error, login=False) from None
        if not isinstance(response.content, dict):
            raise BadResponse(f"Bluesky answered {nsid} with a body that is not JSON")
        return response.content

    def _on_session(self, event: Any, session: Any) -> None:
        if self.pinned:
            self.client.update_base_url(self.pinned)
        self._tokens = [str(session.access_jwt), str(session.refresh_jwt)]
        if event is not SessionEvent.IMPORT:
            _SESSIONS.put(self.session_key, str(session.export()))

    def _secrets(self) -> list[str]:
        return [self.password, *self._tokens]

    def _translate(self, error: Exception, *, login: bool) -> ConnectorError:
        """The SDK's and httpx's exceptions, in the framework's taxonomy; never a password or a token."""
        if isinstance(error, ConnectorError):
            return error
        if isinstance(error, httpx.HTTPError):
            return Transient(f"Bluesky did not answer: {type(error).__name__}")
        if isinstance(error, xrpc_errors.RequestErrorBase) and error.response is not None:
            return self._status_error(error, login=login)
        if isinstance(error, xrpc_errors.NetworkError):
            cause = error.__cause__ or error
            return Transient(f"Bluesky did not answer: {type(cause).__name__}")
        if isinstance(error, xrpc_errors.LoginRequiredError):
            return AuthenticationFailed("Bluesky: the session was lost; log in again")
        if isinstance(error, AtProtocolError | ValueError):
            detail = scrub(str(error), self._secrets())[:200]
            return BadResponse(f"Bluesky answered something the SDK cannot read ({type(error).__name__}: {detail})")
        return ConnectorError(f"Bluesky: {type(error).__name__}")

    def _status_error(self, error: Any, *, login: bool) -> ConnectorError:
        response = error.response
        status = int(response.status_code)
        code, message = _xrpc_error(response.content)
        said = scrub(
            f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else ""), self._secrets()
        )
        if status == 429:
            return RateLimited(f"Bluesky rate limit reached ({said})", _wait(error))
        if login and status in (400, 401, 403):
            return AuthenticationFailed(
                f"Bluesky refused the login of BLUESKY_HANDLE with BLUESKY_APP_PASSWORD ({said})"
            )
        if status in (401, 403) or (status == 400 and code in TOKEN_ERRORS):
            return AuthenticationFailed(f"Bluesky rejected the session ({said})")
        if status >= 500 or status in (408, 409, 413):
            return Transient(f"Bluesky is failing ({said})")
        return ConnectorError(f"Bluesky rejected the request ({said})")


@dataclass(frozen=True)
class _Hit:
    """One post of a search page, with the key it is ordered by."""

    post: dict[str, Any]
    uri: str
    did: str
    key: str


def _hit(post: Any) -> _Hit | str:
    """The post with its sort key, or the problem that keeps it out of the scan."""
    if not isinstance(post, dict) or not isinstance(post.get("uri"), str):
        return "bluesky:?: a search result without a uri"
    uri = post["uri"]
    parts = uri.removeprefix("at://").split("/")
    author = post.get("author")
    if len(parts) != 3 or not isinstance(author, dict) or not isinstance(post.get("record"), dict):
        return f"bluesky:{uri}: not a post view with an author and a record"
    did = author.get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        return f"bluesky:{uri}: the author has no DID"
    key = sort_key(parts[2], post.get("indexedAt"))
    if key is None:
        return f"bluesky:{uri}: neither its record key nor indexedAt is a time"
    return _Hit(post=post, uri=uri, did=did, key=key)


def _links(post: Mapping[str, Any], record: Mapping[str, Any], uri: str) -> tuple[Kind, str | None, str | None]:
    reply = record.get("reply")
    if reply is not None:
        return Kind.REPLY, str(reply["parent"]["uri"]), str(reply["root"]["uri"])
    quoted = _quoted(record.get("embed"))  # also kept as `quoted_id`, whatever the kind
    if quoted:
        # A quote spreads the thread its quoted post belongs to.
        return Kind.QUOTE, quoted, _quoted_root(post.get("embed"), quoted) or quoted
    return Kind.POST, None, uri


def _quoted(embed: Any) -> str | None:
    """The post a record's embed quotes (`app.bsky.embed.record`, or within `recordWithMedia`)."""
    if not isinstance(embed, dict):
        return None
    ref = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia" and isinstance(ref, dict):
        ref = ref.get("record")
    elif embed.get("$type") != "app.bsky.embed.record":
        return None
    uri = ref.get("uri") if isinstance(ref, dict) else None
    # An embedded feed, list or starter pack is not a quoted post.
    return uri if isinstance(uri, str) and f"/{POST_COLLECTION}/" in uri else None


def _quoted_root(view: Any, quoted: str) -> str | None:
    """The thread root of the quoted post, from the embed the AppView hydrated."""
    if not isinstance(view, dict):
        return None
    shown = view.get("record")
    if str(view.get("$type", "")).startswith("app.bsky.embed.recordWithMedia") and isinstance(shown, dict):
        shown = shown.get("record")
    if not isinstance(shown, dict) or shown.get("uri") != quoted:
        return None
    value = shown.get("value")
    reply = value.get("reply") if isinstance(value, dict) else None
    root = reply.get("root") if isinstance(reply, dict) else None
    uri = root.get("uri") if isinstance(root, dict) else None
    return uri if isinstance(uri, str) else None


# TIDs: 13 base32-sortable characters holding 53 bits of microseconds since 1970 and a 10-bit clock id.


def tid_value(text: str) -> int | None:
    if len(text) != TID_LENGTH or text[0] not in TID_ALPHABET[:16]:
        return None
    value = 0
    for char in text:
        digit = TID_ALPHABET.find(char)
        if digit < 0:
            return None
        value = value * 32 + digit
    return value


def tid_text(value: int) -> str:
    chars = []
    for _ in range(TID_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(TID_ALPHABET[digit])
    return "".join(reversed(chars))


def tid_for(moment: datetime, clock_id: int = 0) -> str:
    micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    return tid_text((micros << CLOCK_BITS) | clock_id)


def sort_key(rkey: str, indexed_at: Any) -> str | None:
    """The post's TID, capped at the time it was indexed: a client-chosen TID cannot jump the queue."""
    candidates: list[int] = []
    tid = tid_value(rkey)
    if tid is not None:
        candidates.append(tid)
    try:
        indexed = utc(str(indexed_at)) if indexed_at is not None else None
    except ValueError:
        indexed = None
    if indexed is not None:
        micros = int(indexed.timestamp()) * 1_000_000 + indexed.microsecond
        candidates.append((micros << CLOCK_BITS) | ((1 << CLOCK_BITS) - 1))
    return tid_text(min(candidates)) if candidates else None


def _order(key: str) -> int:
    value = tid_value(key)
    if value is None:
        raise BadResponse(f"Bluesky search: {key[:40]!r} is not a TID")
    return value


def _xrpc_error(content: Any) -> tuple[str, str]:
    if isinstance(content, dict):
        return str(content.get("error") or ""), str(content.get("message") or "")
    code, message = getattr(content, "error", None), getattr(content, "message", None)
    if code is not None:
        return str(code), str(message or "")
    return "", ""


def _wait(error: Any) -> float | None:
    after = error.retry_after
    if after is not None:
        return float(after)
    reset_at = error.reset_at
    return max(0.0, float((reset_at - datetime.now(UTC)).total_seconds())) if reset_at is not None else None


class _SessionStore:
    """Sessions by (service, handle, password hash), for this process only: createSession is rate limited."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str, str], str] = {}

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            return self._sessions.get(key)

    def put(self, key: tuple[str, str, str], session: str) -> None:
        with self._lock:
            self._sessions[key] = session

    def forget(self, key: tuple[str, str, str] | None = None) -> None:
        with self._lock:
            if key is None:
                self._sessions.clear()
            else:
                self._sessions.pop(key, None)


_SESSIONS = _SessionStore()


def forget_sessions() -> None:
    """Drop every kept session (tests; a rotated app password needs nothing: it changes the key)."""
    _SESSIONS.forget()


# Options.


def _int_option(source: str, options: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConnectorError(f"source {source!r}: options.{name} must be a whole number from {low} to {high}")
    return value


def _float_option(source: str, options: Mapping[str, Any], name: str, default: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConnectorError(f"source {source!r}: options.{name} must be a positive number of seconds")
    return float(value)


def _bool_option(source: str, options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if not isinstance(value, bool):
        raise ConnectorError(f"source {source!r}: options.{name} must be true or false")
    return value


def _text_option(source: str, options: Mapping[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConnectorError(f"source {source!r}: options.{name} must be text")
    return value.strip()


def _lookback_option(source: str, options: Mapping[str, Any]) -> float | None:
    value = options.get("lookback_days")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConnectorError(f"source {source!r}: options.lookback_days must be a positive number of days")
    return float(value)
