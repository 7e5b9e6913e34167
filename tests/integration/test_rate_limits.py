"""Slack 429s and 5xx never lose an alert nor send one twice (property-based, local receiver).

Time is simulated: each round runs `deliver_pending` at the moment the next
row or route becomes due, so hours of backoff take milliseconds; the HTTP
requests are real, to the local receiver.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from alerts.outbox import PARKED_RETRY, deliver_pending, send_row
from alerts.slack.webhook import SendResult
from reputation.config import Config, Route
from reputation.store import Store, as_utc
from reputation.store.schema import incidents, outbox, outbox_routes
from tests.conftest import make_config
from tests.factories import BASE_TIME, queue_alerts
from tests.fakes.slack import SlackReceiver, slack_receiver


def enqueue(store: Store, count: int, now: datetime) -> None:
    with store.transaction() as connection:
        for table in (outbox, outbox_routes, incidents):
            connection.execute(table.delete())
        queue_alerts(connection, count, now)


def next_due(store: Store) -> datetime | None:
    """When the next unsent row may go: its own time, or its route's pause if later."""
    with store.engine.connect() as connection:
        due = connection.scalar(select(func.min(outbox.c.next_attempt_at)).where(outbox.c.sent_at.is_(None)))
        paused = connection.scalar(select(func.max(outbox_routes.c.paused_until)))
    if due is None:
        return None
    return max(as_utc(due), as_utc(paused)) if paused is not None else as_utc(due)


@dataclass
class Recorder:
    """The transport, with each send's simulated time and outcome written down."""

    slack: SlackReceiver
    failures: Callable[[datetime], int | None]
    now: datetime = BASE_TIME
    sends: list[tuple[datetime, SendResult]] = field(default_factory=list)

    def __call__(self, route: Route, row: Any, env: Any) -> SendResult:
        status = self.failures(self.now)
        if status is not None:
            self.slack.fail_with.append(status)
        result = send_row(route, row, env)
        self.sends.append((self.now, result))
        return result


def drive(store: Store, config: Config, recorder: Recorder, horizon: timedelta) -> None:
    while (due := next_due(store)) is not None and due - BASE_TIME < horizon:
        recorder.now = max(due, recorder.now + timedelta(seconds=1))
        deliver_pending(store, config, recorder.now, send=recorder)


def assert_each_delivered_once(slack: SlackReceiver, count: int) -> None:
    texts = Counter(message["text"] for message in slack.messages)
    assert texts == Counter({f"alert {i}": 1 for i in range(count)})


def assert_retry_after_kept(recorder: Recorder) -> None:
    """After a 429 saying `Retry-After: R`, nothing goes to that route for R seconds."""
    for (at, result), (later, _) in itertools.pairwise(recorder.sends):
        if result.status == 429 and result.retry_after_seconds:
            assert (later - at).total_seconds() >= result.retry_after_seconds


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    schedule=st.lists(st.sampled_from([429, 500, 503, 200]), max_size=40),
    retry_after=st.integers(1, 120),
    count=st.integers(1, 8),
    max_attempts=st.integers(1, 4),
)
def test_any_429_and_5xx_schedule_delivers_every_alert_exactly_once(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    schedule: list[int],
    retry_after: int,
    count: int,
    max_attempts: int,
) -> None:
    config = make_config(alerts={"max_attempts": max_attempts})
    enqueue(store, count, BASE_TIME)
    remaining = list(schedule)
    with slack_receiver() as slack:
        slack.retry_after_seconds = retry_after
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        recorder = Recorder(slack, lambda _now: remaining.pop(0) if remaining else None)
        drive(store, config, recorder, horizon=timedelta(days=3))
    assert_each_delivered_once(slack, count)
    assert_retry_after_kept(recorder)
    assert sum(result.ok for _, result in recorder.sends) == count
    # Per route: after a refusal nothing more goes to the route in that round, whatever else is due.
    for (at, result), (later, _) in itertools.pairwise(recorder.sends):
        assert result.ok or later > at


def test_a_40_second_burst_of_429s_loses_nothing_and_burns_no_attempts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config()  # max_attempts 8, as shipped
    enqueue(store, 47, BASE_TIME)
    burst_end = BASE_TIME + timedelta(seconds=40)
    with slack_receiver() as slack:
        slack.retry_after_seconds = 1
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        recorder = Recorder(slack, lambda now: 429 if now < burst_end else None)
        drive(store, config, recorder, horizon=timedelta(hours=2))
    assert_each_delivered_once(slack, 47)
    refused = [at for at, result in recorder.sends if result.status == 429]
    assert refused and len(refused) <= 4  # Retry-After: 1 was a floor: 15 s, 30 s... not 47 x 8 tries
    assert max(at for at, _ in recorder.sends) - burst_end < timedelta(minutes=1)
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(outbox.c.failed_at.is_not(None))) == 0


def test_a_parked_alert_is_retried_on_a_slow_schedule(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(alerts={"max_attempts": 2})
    enqueue(store, 1, BASE_TIME)
    outage_end = BASE_TIME + timedelta(hours=3)
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        recorder = Recorder(slack, lambda now: 500 if now < outage_end else None)
        drive(store, config, recorder, horizon=timedelta(days=1))
    assert_each_delivered_once(slack, 1)
    times = [at for at, _ in recorder.sends]
    assert all(b - a >= PARKED_RETRY for a, b in itertools.pairwise(times[1:]))  # parked: hourly
    assert times[-1] - outage_end <= PARKED_RETRY
