"""Google Play: the reviews of one Android app, through the Google Play Developer API.

The query is the app's package name (`com.voltmart.app`). Each run pages
through `reviews.list` of the `androidpublisher` v3 API,

    GET https://androidpublisher.googleapis.com/androidpublisher/v3/applications/{packageName}/reviews
        ?maxResults=&token=&translationLanguage=

with an OAuth2 bearer token that google-auth obtains for a service account
(a JWT-bearer grant at the account's `token_uri`, scope `androidpublisher`).
The account's JSON key is read from GOOGLE_PLAY_SERVICE_ACCOUNT_JSON, never
from a file; the account needs access to the app in Play Console.

Google lists reviews newest first by the time the reviewer last wrote them
(`userComment.lastModified`), so an edited review comes back at the top with
a newer time. The cursor is that time: the newest `lastModified` seen and the
ids of the reviews modified at that very instant (ties are rare but possible),

    {"since": {"modified": "1767873600.713000000", "ids": ["gp:AOqpTO..."]},
     "in_progress": {"newest": {...}, "next_token": "..."}}

and, as in `connectors.kit`, it only moves when a scan completes; a run that
stops halfway resumes from `next_token`. A review newer than the cursor is
yielded again whole (same native id, new text and rating), so edits reach the
store. The developer's public answer is kept as `raw["owner_reply"]`.

Known limits: the API returns only reviews that have text and that were
written or edited in the last 7 days (a source paused longer loses the gap),
only for the production track; GET requests are limited to 200 an hour per
app. A developer reply does not move a review in the listing, so a reply
written after the review was collected is only seen if the reviewer edits it.
Google gives no reviewer id, only `authorName`; a Play user can write one
review per app, so the author id is derived from the review id
(`reviewer:{reviewId}`) and the name is the handle.

google-auth retries a failing token endpoint itself, sleeping; the token
request here raises the framework's errors first, so `RetryPolicy` owns every
retry. Quota errors come as 429 or, from older Google front ends, as 403 with
reason `rateLimitExceeded`; both are `RateLimited`, waiting what Google's
`Retry-After` or `google.rpc.RetryInfo` advises.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub
from connectors.http import TIMEOUT_SECONDS, USER_AGENT, HttpClient, retry_after_header
from connectors.kit import MAX_PAGES_PER_RUN, Watermark, WatermarkLayout, refuse_unknown_options, utc
from connectors.retry import RetryPolicy
from reputation.connector import SourceSettings
from reputation.models import Author, FetchedBatch, Kind, Mention, Metrics

try:
    import requests
    from google.auth import exceptions as google_errors
    from google.auth.transport import requests as google_requests
    from google.oauth2 import service_account
except ModuleNotFoundError as missing:  # pragma: no cover - the optional `googleplay` extra is not installed
    # `reputation connectors list` still imports this module to show it.
    MISSING_LIBRARY: str | None = missing.name
    _TransportRequest: Any = object
else:
    MISSING_LIBRARY = None
    _TransportRequest = google_requests.Request

API_ROOT = "https://androidpublisher.googleapis.com"
CREDENTIAL = "GOOGLE_PLAY_SERVICE_ACCOUNT_JSON"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
STORE_URL = "https://play.google.com/store/apps/details"
PLATFORM = "Google Play"
MAX_PAGE_SIZE = 100
OPTIONS = ("page_size", "translation_language", "brand", "timeout_seconds", "retry")
PACKAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")
# Google's `errors[].reason` / `ErrorInfo.reason` for an exhausted quota, whatever the status.
QUOTA_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded", "RATE_LIMIT_EXCEEDED"}
)
NANOS = 1_000_000_000


class GooglePlayConnector:
    platform: ClassVar[str] = "googleplay"
    credentials: ClassVar[tuple[str, ...]] = (CREDENTIAL,)

    def __init__(self, settings: SourceSettings, *, retry: RetryPolicy | None = None) -> None:
        if MISSING_LIBRARY:  # pragma: no cover
            raise ConnectorError(f"{MISSING_LIBRARY} is missing: pip install 'reputation-monitor[googleplay]'")
        self.account_json = settings.env.get(CREDENTIAL, "")
        if not self.account_json.strip():
            raise AuthenticationFailed(
                f"source {settings.name!r}: set {CREDENTIAL} to the JSON key of a service account "
                "that has access to the app in Play Console"
            )
        self.name = settings.name
        self.query = settings.query
        self.limit = settings.limit
        options = settings.options
        refuse_unknown_options(options, OPTIONS, self.name, "Google Play")
        self.page_size = _integer(options.get("page_size", MAX_PAGE_SIZE), 1, MAX_PAGE_SIZE, self.name, "page_size")
        self.translation = _language_option(options.get("translation_language"), self.name)
        self.brand = _text_option(options.get("brand"), self.name, "brand")
        timeout = _seconds(options.get("timeout_seconds", TIMEOUT_SECONDS), self.name)
        self.retry = retry or RetryPolicy.from_options(options)
        self.api_root = (settings.base_url or API_ROOT).rstrip("/")
        # The JSON is parsed on the first fetch: a broken value is reported like a rejected one.
        self.http = _PlayApi(PLATFORM, secrets=[self.account_json], timeout_seconds=timeout, retry_after=_retry_after)
        self.token_request = _TokenRequest(timeout)
        self._account: service_account.Credentials | None = None

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        package = (query or self.query).strip()
        if not PACKAGE_NAME.match(package):
            raise ConnectorError(
                f"source {self.name!r}: the query must be the app's package name (like com.voltmart.app), "
                f"got {package[:80]!r}"
            )
        self._credentials()
        notes: list[str] = []
        try:
            cursor = _LAYOUT.read(state)
        except (TypeError, ValueError, AttributeError):
            # Re-reading the week is harmless (the store upserts); failing every run is not.
            cursor = _Cursor()
            notes.append("googleplay: the stored cursor is unreadable; read the last 7 days again")
        try:
            yield from self._batches(package, cursor, notes)
        except _StaleToken as error:
            note = f"googleplay: {error}; read again from the newest review"
            yield from self._batches(package, _Cursor(since=cursor.since), [note])

    def _batches(self, package: str, cursor: _Cursor, notes: list[str]) -> Iterator[FetchedBatch]:
        for entries, problems, after in self._scan(package, cursor):
            mentions: list[Mention] = []
            problems, notes = notes + problems, []
            for entry in entries:
                try:
                    mentions.append(self._mention(entry, package))
                except (KeyError, TypeError, ValueError) as error:
                    problems.append(f"googleplay:{entry.review_id}: {type(error).__name__}: {error}")
            yield FetchedBatch(mentions=mentions, state=_LAYOUT.write(after), problems=problems)
        if notes:  # nothing was yielded, so the unreadable cursor would stay stored: replace it
            yield FetchedBatch(mentions=[], state=_LAYOUT.write(_Cursor(since=cursor.since)), problems=notes)

    # The scan: newest first, down to the cursor (see the module docstring).

    def _scan(self, package: str, cursor: _Cursor) -> Iterator[tuple[list[_Entry], list[str], _Cursor]]:
        since, newest, token = cursor.since, cursor.newest, cursor.resume
        tokens_seen = {token} if token else set()
        taken = 0
        for _ in range(MAX_PAGES_PER_RUN):
            remaining = None if self.limit is None else self.limit - taken
            try:
                page = self.retry.call(functools.partial(self._page, package, token, remaining), "Google Play reviews")
            except _Rejected as error:
                if token is not None and token == cursor.resume:
                    # Page tokens are not meant to outlive a scan; one kept from an earlier run may be refused.
                    raise _StaleToken(f"Google Play refused the page token kept from the last run ({error})") from None
                raise
            fresh = [entry for entry in page.entries if since is None or since.precedes(entry)]
            for entry in fresh:
                newest = _Mark.newest(newest, entry)
            # Entries older than the cursor mean the previous scan covered the rest.
            reached_since = since is not None and any(entry.modified < since.modified for entry in page.entries)
            if reached_since or not page.next_token:
                final = _Cursor(since=_Mark.merged(since, newest))
                if fresh or page.problems or final != cursor:
                    yield fresh, page.problems, final
                return
            following = _Cursor(since=since, newest=newest, resume=page.next_token)
            if page.next_token in tokens_seen:
                # Resume from the token that produced this page: harmless re-delivery, nothing lost.
                yield fresh, page.problems, _Cursor(since=since, newest=newest, resume=token)
                raise BadResponse(f"Google Play reviews: the API repeated page token {page.next_token!r}; stopped")
            tokens_seen.add(page.next_token)
            token = page.next_token
            yield fresh, page.problems, following
            taken += len(fresh)
            if self.limit is not None and taken >= self.limit:
                return

    def _page(self, package: str, token: str | None, remaining: int | None) -> _Page:
        params: dict[str, Any] = {"maxResults": max(1, min(self.page_size, remaining or self.page_size))}
        if token:
            params["token"] = token
        if self.translation:
            params["translationLanguage"] = self.translation
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        url = f"{self.api_root}/androidpublisher/v3/applications/{package}/reviews"
        return _parse_page(self.http.json_of(self.http.get(url, params=params, headers=headers)))

    # Credentials: the service account's key, then short-lived access tokens.

    def _credentials(self) -> service_account.Credentials:
        if self._account is None:
            self._account, key_parts = _service_account(self.account_json, self.name)
            self.http.secrets.extend(key_parts)
        return self._account

    def _access_token(self) -> str:
        account = self._credentials()
        if not account.valid:
            try:
                account.refresh(self.token_request)  # type: ignore[no-untyped-call]
            except google_errors.TransportError as error:
                cause = type(error.__cause__ or error).__name__
                raise Transient(f"Google's OAuth token endpoint did not answer: {cause}") from None
            except google_errors.RefreshError as error:
                raise _refused(error, self.http.secrets) from None
            self.http.secrets.append(str(account.token))
        return str(account.token)

    # One review as a Mention.

    def _mention(self, entry: _Entry, package: str) -> Mention:
        review = entry.review
        user = _comment(review, "userComment")
        if user is None:
            raise ValueError("no userComment")
        translated = self.translation is not None and bool(user.get("originalText"))
        language = self.translation if translated else user.get("reviewerLanguage")
        rating = user.get("starRating")
        raw = dict(review)
        reply = _owner_reply(review)
        if reply is not None:
            raw["owner_reply"] = reply
        return Mention(
            platform=self.platform,
            native_id=entry.review_id,
            kind=Kind.REVIEW,
            url=f"{STORE_URL}?id={package}&reviewId={entry.review_id}",
            text=_review_text(user.get("text")),
            created_at=_timestamp(user["lastModified"]),
            author=Author(id=f"reviewer:{entry.review_id}", handle=str(review.get("authorName") or "")),
            metrics=Metrics(likes=_count(user.get("thumbsUpCount"))),
            rating=float(rating) if isinstance(rating, int | float) and 1 <= rating <= 5 else None,
            language=_primary_language(language),
            brand=self.brand,
            query=package,
            raw=raw,
        )


# The listing: reviews placed in the order Google lists them.


@dataclass(frozen=True)
class _Entry:
    review: dict[str, Any]
    review_id: str
    modified: int  # userComment.lastModified in epoch nanoseconds


@dataclass(frozen=True)
class _Page:
    entries: list[_Entry]
    next_token: str | None
    problems: list[str] = field(default_factory=list)


def _parse_page(body: Any) -> _Page:
    if not isinstance(body, dict):
        raise BadResponse("Google Play answered with JSON that is not a reviews list")
    reviews = body.get("reviews") or []  # Google answers `{}` when there are none
    if not isinstance(reviews, list):
        raise BadResponse("Google Play answered with a malformed `reviews` list")
    pagination = body.get("tokenPagination") or {}
    next_token = pagination.get("nextPageToken") if isinstance(pagination, dict) else None
    entries: list[_Entry] = []
    problems: list[str] = []
    for review in reviews:
        review_id = str(review.get("reviewId") or "?") if isinstance(review, dict) else "?"
        try:
            if not isinstance(review, dict) or review_id == "?":
                raise ValueError("no reviewId")
            user = _comment(review, "userComment")
            if user is None:
                raise ValueError("no userComment")
            entries.append(_Entry(review, review_id, _nanoseconds(user["lastModified"])))
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"googleplay:{review_id}: {type(error).__name__}: {error}")
    return _Page(entries, str(next_token) if next_token else None, problems)


def _comment(review: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The review's `userComment` or `developerComment` (Google puts each in its own `comments[]` element)."""
    for comment in review.get("comments") or []:
        if isinstance(comment, dict) and isinstance(comment.get(kind), dict):
            found: dict[str, Any] = comment[kind]
            return found
    return None


def _nanoseconds(value: Any) -> int:
    """A protobuf Timestamp as JSON (`{"seconds": "1767873600", "nanos": 713000000}`) in epoch nanoseconds."""
    if not isinstance(value, dict):
        raise ValueError(f"lastModified is not a timestamp: {value!r:.64}")
    seconds = int(str(value["seconds"]))  # an int64, which JSON carries as a string
    nanos = int(value.get("nanos") or 0)
    if not 0 <= nanos < NANOS:
        raise ValueError(f"lastModified.nanos out of range: {nanos}")
    return seconds * NANOS + nanos


def _timestamp(value: Any) -> datetime:
    seconds, nanos = divmod(_nanoseconds(value), NANOS)
    return utc(seconds) + timedelta(microseconds=nanos // 1000)


def _review_text(value: Any) -> str:
    """Google joins a review's title and body with a tab; the title becomes its own paragraph."""
    text = str(value or "")
    if "\t" not in text:
        return text.strip()
    title, body = text.split("\t", 1)
    return "\n\n".join(part.strip() for part in (title, body) if part.strip())


def _owner_reply(review: Mapping[str, Any]) -> dict[str, str | None] | None:
    reply = _comment(review, "developerComment")
    if reply is None or not str(reply.get("text") or "").strip():
        return None
    try:
        replied_at: str | None = _timestamp(reply.get("lastModified")).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (KeyError, TypeError, ValueError):
        replied_at = None  # the answer still counts; an unreadable time must not cost the review
    return {"text": str(reply["text"]), "replied_at": replied_at}


def _primary_language(value: Any) -> str | None:
    """`en_GB`, `pt-BR` or `de` -> `en`, `pt`, `de`."""
    if not isinstance(value, str) or not value.strip():
        return None
    return re.split(r"[_-]", value.strip(), maxsplit=1)[0].lower() or None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# The cursor.


@dataclass(frozen=True)
class _Mark:
    """A place in the listing: a `lastModified` instant and the reviews modified at it."""

    modified: int
    ids: frozenset[str]

    def precedes(self, entry: _Entry) -> bool:
        """Whether `entry` is newer than this mark (so not yet collected)."""
        return entry.modified > self.modified or (entry.modified == self.modified and entry.review_id not in self.ids)

    @staticmethod
    def newest(mark: _Mark | None, entry: _Entry) -> _Mark:
        if mark is None or entry.modified > mark.modified:
            return _Mark(entry.modified, frozenset({entry.review_id}))
        if entry.modified == mark.modified:
            return _Mark(mark.modified, mark.ids | {entry.review_id})
        return mark

    @staticmethod
    def merged(since: _Mark | None, newest: _Mark | None) -> _Mark | None:
        if since is None or newest is None:
            return newest or since
        if newest.modified == since.modified:
            return _Mark(since.modified, since.ids | newest.ids)
        return newest if newest.modified > since.modified else since

    @classmethod
    def from_state(cls, value: Any) -> _Mark | None:
        if value is None:
            return None
        seconds, _, nanos = str(value["modified"]).partition(".")
        modified = int(seconds) * NANOS + int(nanos.ljust(9, "0")[:9] or 0)
        return cls(modified, frozenset(str(review_id) for review_id in value.get("ids") or []))

    def to_state(self) -> dict[str, Any]:
        seconds, nanos = divmod(self.modified, NANOS)
        return {"modified": f"{seconds}.{nanos:09d}", "ids": sorted(self.ids)}


# `since`: where the last complete scan began; `newest` and `resume` (its page token): the scan in progress.
_Cursor = Watermark[_Mark, str]
_LAYOUT: WatermarkLayout[_Mark, str] = WatermarkLayout(
    read_mark=_Mark.from_state,
    write_mark=_Mark.to_state,
    resume_key="next_token",
    read_resume=lambda token: str(token) if token else None,
    write_resume=str,
)


# Talking to Google.


class _PlayApi(HttpClient):
    """`HttpClient`, reading Google's error JSON: its message, and quota errors whatever their status."""

    def error_for(self, response: requests.Response) -> ConnectorError:
        status = response.status_code
        error = _google_error(response)
        message = scrub(" ".join(str(error.get("message") or "").split())[:200], self.secrets)
        said = (
            f"HTTP {status}"
            + (f" {error['status']}" if error.get("status") else "")
            + (f": {message}" if message else "")
        )
        if status == 429 or (status == 403 and _reasons(error) & QUOTA_REASONS):
            return RateLimited(f"{PLATFORM} quota exhausted ({said})", self.retry_after(response))
        if status == 401:
            return AuthenticationFailed(f"{PLATFORM} rejected the access token of the service account ({said})")
        if status == 403:
            return AuthenticationFailed(
                f"{PLATFORM} refused the service account in {CREDENTIAL}: invite it to the app in Play Console "
                f"with permission to view app information and reply to reviews ({said})"
            )
        if status == 400:
            return _Rejected(f"{PLATFORM} rejected the request ({said})")
        if status == 404:
            return ConnectorError(f"{PLATFORM} knows no app with this package name, or not in this account ({said})")
        return super().error_for(response)


class _Rejected(ConnectorError):
    """A 400: the request itself is wrong (fatal, unless it was a page token kept from an earlier run)."""


class _StaleToken(ConnectorError):
    """Google refused the page token a run that stopped halfway kept in the cursor."""


class _TokenRequest(_TransportRequest):  # type: ignore[misc]
    """google-auth's transport for the token endpoint: a timeout, and failures raised before google-auth retries."""

    def __init__(self, timeout_seconds: float) -> None:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        super().__init__(session)
        self.timeout_seconds = timeout_seconds

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        kwargs["timeout"] = self.timeout_seconds
        response = super().__call__(url, method=method, body=body, headers=headers, **kwargs)
        if response.status == 429:
            raise RateLimited("Google's OAuth token endpoint is rate limiting us (HTTP 429)")
        if response.status in (408, 425) or response.status >= 500:
            raise Transient(f"Google's OAuth token endpoint is failing (HTTP {response.status})")
        return response


def _service_account(text: str, source: str) -> tuple[service_account.Credentials, list[str]]:
    """The credentials in the variable's JSON, and the parts of it to scrub; errors never quote the JSON."""
    where = f"source {source!r}: {CREDENTIAL}"
    try:
        info = json.loads(text)
    except ValueError:
        raise AuthenticationFailed(f"{where} is not valid JSON; set it to the contents of the key file") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise AuthenticationFailed(f'{where} does not hold a service account key ("type": "service_account")')
    missing = [name for name in ("client_email", "private_key", "token_uri") if not info.get(name)]
    if missing:
        raise AuthenticationFailed(f"{where} lacks {', '.join(missing)}")
    secrets = [str(info[name]) for name in ("private_key", "private_key_id") if info.get(name)]
    try:
        account = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, KeyError, google_errors.GoogleAuthError):
        raise AuthenticationFailed(f"{where}: its private_key is not a PEM-encoded RSA private key") from None
    return account, secrets


def _refused(error: Exception, secrets: list[str]) -> ConnectorError:
    """google-auth's RefreshError: Google's `error: error_description`, in the framework's taxonomy."""
    detail = error.args[0] if error.args and isinstance(error.args[0], str) else type(error).__name__
    detail = scrub(detail[:200], secrets)
    if getattr(error, "retryable", False):
        return Transient(f"Google's OAuth token endpoint is failing ({detail})")
    return AuthenticationFailed(f"Google refused an access token for the service account in {CREDENTIAL} ({detail})")


def _google_error(response: requests.Response) -> dict[str, Any]:
    """The `error` object of Google's error JSON, or {} for any other body."""
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _reasons(error: Mapping[str, Any]) -> set[str]:
    reasons = {str(item.get("reason")) for item in error.get("errors") or [] if isinstance(item, dict)}
    reasons |= {str(item.get("reason")) for item in error.get("details") or [] if isinstance(item, dict)}
    return reasons


def _retry_after(response: requests.Response) -> float | None:
    """`Retry-After`, else the `google.rpc.RetryInfo` detail of Google's error JSON (`"retryDelay": "7s"`)."""
    wait = retry_after_header(response)
    if wait is not None:
        return wait
    for detail in _google_error(response).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = str(detail.get("retryDelay") or "")
            try:
                return max(0.0, float(delay.removesuffix("s")))
            except ValueError:
                return None
    return None


# Options.


def _integer(value: Any, low: int, high: int, source: str, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ConnectorError(f"source {source!r}: options.{option} must be a whole number from {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise ConnectorError(f"source {source!r}: options.{option} must be from {low} to {high}, got {number}")
    return number


def _seconds(value: Any, source: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if isinstance(value, bool) or not seconds > 0:
        raise ConnectorError(f"source {source!r}: options.timeout_seconds must be a positive number of seconds")
    return seconds


def _language_option(value: Any, source: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not LANGUAGE_CODE.match(value):
        raise ConnectorError(
            f"source {source!r}: options.translation_language must be a language code like en or en_GB, got {value!r}"
        )
    return value


def _text_option(value: Any, source: str, option: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConnectorError(f"source {source!r}: options.{option} must be text, got {value!r}")
    return value
