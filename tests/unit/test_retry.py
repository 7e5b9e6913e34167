"""The framework's retry policy: what it retries, how long it waits, and when it gives up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient
from connectors.retry import RetryPolicy


def failing(*errors: Exception, result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """An operation that raises `errors` in turn, then returns `result`; counts its calls."""
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return operation, calls


def policy(sleeps: list[float], **settings: float) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, jitter=lambda: 0.5, **settings)  # type: ignore[arg-type]


def test_transient_failures_back_off_exponentially_then_succeed() -> None:
    sleeps: list[float] = []
    operation, calls = failing(Transient("503"), Transient("reset"), Transient("timeout"))
    assert policy(sleeps, base_delay_seconds=2).call(operation) == "ok"
    assert len(calls) == 4
    assert sleeps == [1.5, 3.0, 6.0]  # half fixed, half jittered (0.5 here) of 2, 4, 8


def test_backoff_is_capped() -> None:
    assert RetryPolicy(base_delay_seconds=1, max_delay_seconds=10, jitter=lambda: 1.0).backoff_seconds(12) == 10


def test_rate_limits_wait_what_the_platform_asked() -> None:
    sleeps: list[float] = []
    operation, _ = failing(RateLimited("429", retry_after_seconds=42), RateLimited("429 without advice"))
    assert policy(sleeps).call(operation) == "ok"
    assert sleeps == [42, 1.5]


@pytest.mark.parametrize("error", [AuthenticationFailed("401"), BadResponse("not JSON"), ConnectorError("400")])
def test_fatal_errors_are_never_retried(error: ConnectorError) -> None:
    sleeps: list[float] = []
    operation, calls = failing(error)
    with pytest.raises(type(error)):
        policy(sleeps).call(operation)
    assert len(calls) == 1 and sleeps == []


def test_other_exceptions_pass_through_untouched() -> None:
    operation, calls = failing(KeyError("bug"))
    with pytest.raises(KeyError):
        policy([]).call(operation)
    assert len(calls) == 1


def test_attempts_are_bounded() -> None:
    sleeps: list[float] = []
    operation, calls = failing(*[Transient(f"503 #{i}") for i in range(10)])
    with pytest.raises(Transient, match="503 #2"):
        policy(sleeps, max_attempts=3).call(operation)
    assert len(calls) == 3 and len(sleeps) == 2


def test_a_wait_beyond_the_budget_is_not_started() -> None:
    sleeps: list[float] = []
    operation, calls = failing(RateLimited("429", retry_after_seconds=3600))
    with pytest.raises(RateLimited):
        policy(sleeps, max_total_wait_seconds=300).call(operation)
    assert sleeps == [] and len(calls) == 1


def test_the_total_wait_is_capped_across_attempts() -> None:
    sleeps: list[float] = []
    operation, _ = failing(*[RateLimited("429", retry_after_seconds=40) for _ in range(10)])
    with pytest.raises(RateLimited):
        policy(sleeps, max_attempts=10, max_total_wait_seconds=100).call(operation)
    assert sleeps == [40, 40] and sum(sleeps) <= 100


def test_a_source_configures_its_policy_in_options() -> None:
    configured = RetryPolicy.from_options({"retry": {"max_attempts": 2, "max_total_wait_seconds": 30}})
    assert (configured.max_attempts, configured.max_total_wait_seconds) == (2, 30)
    assert RetryPolicy.from_options({}) == RetryPolicy()
    with pytest.raises(ConnectorError, match="unknown keys"):
        RetryPolicy.from_options({"retry": {"attempts": 2}})
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_rate_limited_never_advises_a_negative_wait() -> None:
    assert RateLimited("clock skew", retry_after_seconds=-3).retry_after_seconds == 0
