"""What can go wrong while talking to a platform, in four kinds the framework acts on.

Every connector maps its client library's exceptions into these, so the retry
policy (`connectors.retry`) and the pipeline treat all platforms alike:

    RateLimited           wait `retry_after_seconds`, then try again
    Transient             5xx, timeouts, dropped connections: back off, try again
    AuthenticationFailed  missing or rejected credentials: never retried
    BadResponse           the platform answered something unreadable: never retried

Messages name the platform and what happened, never a credential.
"""

from __future__ import annotations

from typing import ClassVar

from reputation.errors import ReputationError
from reputation.redaction import scrub

__all__ = ["AuthenticationFailed", "BadResponse", "ConnectorError", "RateLimited", "Transient", "scrub"]


class ConnectorError(ReputationError):
    """Base of every error a connector raises on purpose; fatal unless a subclass says otherwise."""

    retryable: ClassVar[bool] = False


class RateLimited(ConnectorError):
    """The platform asked us to slow down; `retry_after_seconds` is its advice, when it gave one."""

    retryable = True

    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = None if retry_after_seconds is None else max(0.0, float(retry_after_seconds))


class Transient(ConnectorError):
    """A failure that usually goes away: a 5xx, a timeout, a reset connection."""

    retryable = True


class AuthenticationFailed(ConnectorError):
    """Credentials are missing, wrong, revoked or not allowed this resource."""


class BadResponse(ConnectorError):
    """A response the connector cannot use: not JSON, the wrong shape, a pagination loop."""
