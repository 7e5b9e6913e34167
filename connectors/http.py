"""A JSON/feed HTTP client for platforms without a client library worth depending on.

Review sites, Hacker News' Algolia API and feeds are plain HTTP. Every such
connector talks through `HttpClient`, so all of them answer failures alike
(see `connectors.errors`):

    connection refused, reset, timeout   Transient
    408, 425, 5xx                        Transient
    429                                  RateLimited, wait from Retry-After or the platform's reset header
    401, 403                             AuthenticationFailed
    other 4xx                            ConnectorError (fatal: the request itself is wrong)
    a body that is not JSON              BadResponse (from `get_json`)

Messages carry the platform's name, the status and a short, scrubbed excerpt of
its error body, never a URL (query strings can hold API keys) or a credential.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient, scrub

TIMEOUT_SECONDS = 30.0
USER_AGENT = "reputation-monitor/0.1 (+https://github.com/reputation-monitor)"
EXCERPT_CHARS = 200

RetryAfter = Callable[[requests.Response], float | None]


def retry_after_header(response: requests.Response) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date), else `RateLimit-Reset`/`X-RateLimit-Reset`.

    A reset header holding an epoch time (larger than a day's worth of seconds)
    is turned into the wait until then.
    """
    value = response.headers.get("Retry-After")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - time.time())
    for name in ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset"):
        reset = response.headers.get(name)
        try:
            seconds = float(reset) if reset else None
        except ValueError:
            continue
        if seconds is not None:
            return max(0.0, seconds - time.time()) if seconds > 86_400 else seconds
    return None


class HttpClient:
    """One `requests.Session` per connector: a timeout on every call, and the platform's answers mapped."""

    def __init__(
        self,
        platform: str,
        *,
        secrets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
        retry_after: RetryAfter = retry_after_header,
    ) -> None:
        self.platform = platform
        self.secrets = [secret for secret in secrets if secret]
        self.timeout_seconds = timeout_seconds
        self.retry_after = retry_after
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Sequence[int] = (200,),
    ) -> requests.Response:
        """GET `url`; returns the response when its status is in `ok`, else raises the mapped error."""
        return self.request("GET", url, params=params, headers=headers, ok=ok)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        ok: Sequence[int] = (200,),
    ) -> requests.Response:
        try:
            response = self.session.request(
                method, url, params=params, headers=headers, data=data, timeout=self.timeout_seconds
            )
        except requests.RequestException as error:
            # The exception's text holds the URL, and so any key in its query string.
            raise Transient(f"{self.platform} did not answer: {type(error).__name__}") from None
        if response.status_code in ok:
            return response
        raise self.error_for(response)

    def get_json(
        self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.json_of(self.get(url, params=params, headers=headers))

    def json_of(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise BadResponse(f"{self.platform} answered with a body that is not JSON ({kind})") from None

    def error_for(self, response: requests.Response) -> ConnectorError:
        status = response.status_code
        detail = self._excerpt(response)
        said = f"HTTP {status}" + (f": {detail}" if detail else "")
        if status == 429:
            return RateLimited(f"{self.platform} is rate limiting us ({said})", self.retry_after(response))
        if status in (401, 403):
            return AuthenticationFailed(f"{self.platform} rejected the credentials ({said})")
        if status in (408, 425) or status >= 500:
            return Transient(f"{self.platform} is failing ({said})")
        return ConnectorError(f"{self.platform} rejected the request ({said})")

    def _excerpt(self, response: requests.Response) -> str:
        text = " ".join(response.text.split())[:EXCERPT_CHARS] if response.content else ""
        if text.startswith("<"):  # an HTML error page says nothing a person needs
            return ""
        return scrub(text, self.secrets)
