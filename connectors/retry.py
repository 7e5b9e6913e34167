"""The framework's retry policy: bounded attempts, bounded total wait, honest about rate limits.

Connectors never loop on failures themselves (and turn their client library's
own retries off); each request goes through `RetryPolicy.call`, which retries
`RateLimited` after the wait the platform asked for and `Transient` with
exponential backoff and jitter. Authentication failures and unreadable
responses are raised at once. The total time spent sleeping is capped: a wait
that would exceed the budget is not started, the error is raised instead, and
the next scheduled run tries again.

`sleep` and `jitter` are injectable so tests never sleep.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.errors import ConnectorError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    max_total_wait_seconds: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay_seconds, self.max_delay_seconds, self.max_total_wait_seconds) < 0:
            raise ValueError("delays must not be negative")

    @classmethod
    def from_options(cls, options: Mapping[str, Any], **overrides: Any) -> RetryPolicy:
        """A source's `options.retry` mapping (max_attempts, max_total_wait_seconds, ...)."""
        settings = dict(options.get("retry") or {})
        known = {"max_attempts", "base_delay_seconds", "max_delay_seconds", "max_total_wait_seconds"}
        unknown = set(settings) - known
        if unknown:
            raise ConnectorError(f"options.retry: unknown keys {sorted(unknown)}; use {sorted(known)}")
        return cls(**settings, **overrides)

    def backoff_seconds(self, attempt: int) -> float:
        """Wait after the `attempt`-th failure (1-based): exponential, capped, half of it jittered."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.jitter() * ceiling / 2

    def wait_for(self, error: ConnectorError, attempt: int) -> float:
        if isinstance(error, RateLimited) and error.retry_after_seconds is not None:
            return error.retry_after_seconds
        return self.backoff_seconds(attempt)

    def call(self, operation: Callable[[], T], what: str = "request") -> T:
        """Run `operation`, retrying what is retryable within the attempt and wait budgets."""
        waited = 0.0
        attempt = 1
        while True:
            try:
                return operation()
            except ConnectorError as error:
                if not error.retryable or attempt >= self.max_attempts:
                    raise
                delay = self.wait_for(error, attempt)
                if waited + delay > self.max_total_wait_seconds:
                    log.warning("%s: giving up, waiting %.1fs more would exceed the retry budget", what, delay)
                    raise
                log.warning("%s failed (%s); attempt %d, retrying in %.1fs", what, error, attempt, delay)
                self.sleep(delay)
                waited += delay
                attempt += 1
