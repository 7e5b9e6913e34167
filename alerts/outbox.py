"""Delivering the outbox: claim a row, send it, record the outcome.

A row is claimed with a compare-and-set on its lease, so two workers never
send the same row; a failed send is retried with exponential backoff (or after
Slack's Retry-After) until `max_attempts`, then parked as failed.

Exactly once, and where it holds: a Web API route (bot token and channel)
tags each message with its outbox id, and a retry of a row whose last outcome
is unknown first asks Slack whether that message is already in the channel, so
a process that dies between Slack accepting the message and the row being
marked sent does not send it twice. An incoming webhook accepts no such tag and
cannot be asked: there, that one crash window gives at-least-once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from alerts.slack.web_api import already_posted, post_message
from alerts.slack.webhook import SendResult, send_webhook
from alerts.zendesk import send_ticket
from reputation.config import Config, Route
from reputation.store import Store, as_utc
from reputation.store.schema import outbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BASE_BACKOFF = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=30)

Transport = Callable[[Route, Any, Mapping[str, str]], SendResult]


def send_row(route: Route, row: Any, env: Mapping[str, str]) -> SendResult:
    """Send one outbox row over its route's transport."""
    secret = env.get(route.secret_env, "")
    if not secret:
        return SendResult(False, 0, None, f"route {route.name!r} has no ${route.secret_env} in the environment")
    if route.zendesk_url:
        return send_ticket(route, row, env)
    if route.webhook_env:
        return send_webhook(secret, row.payload)
    if route.channel is None:  # the config refuses this; kept for the type checker
        return SendResult(False, 0, None, f"route {route.name!r} has a token but no channel")
    if row.attempts > 1:
        found = already_posted(secret, route.channel, row.id, as_utc(row.created_at), route.api_base_url)
        if isinstance(found, SendResult):
            return found
        if found:
            log.info("alert %s was already in %s; not posting it again", row.id, route.channel)
            return SendResult(True, 200, None, None)
    return post_message(secret, route.channel, row.payload, row.id, route.api_base_url)


def _claim(store: Store, now: datetime) -> Any | None:
    with store.transaction() as connection:
        candidate = connection.execute(
            select(outbox.c.id)
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.failed_at.is_(None),
                outbox.c.next_attempt_at <= now,
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .order_by(outbox.c.id)
            .limit(1)
        ).first()
        if candidate is None:
            return None
        claimed = connection.execute(
            update(outbox)
            .where(
                outbox.c.id == candidate.id,
                outbox.c.sent_at.is_(None),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .values(claimed_until=now + LEASE, attempts=outbox.c.attempts + 1)
        )
        if claimed.rowcount != 1:
            return ()  # another worker won this row; try the next
        return connection.execute(select(outbox).where(outbox.c.id == candidate.id)).first()


def backoff(attempts: int) -> timedelta:
    delay: timedelta = BASE_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


def deliver_pending(
    store: Store,
    config: Config,
    now: datetime,
    env: Mapping[str, str] | None = None,
    send: Transport = send_row,
) -> int:
    """Send every due row once; returns how many were delivered."""
    env = os.environ if env is None else env
    routes = {route.name: route for route in config.alerts.routes}
    delivered = 0
    while (row := _claim(store, now)) is not None:
        if row == ():
            continue
        route = routes.get(row.route)
        if route is None:
            result = SendResult(False, 0, None, f"route {row.route!r} is no longer configured")
        else:
            result = send(route, row, env)
        values: dict[str, Any] = {"claimed_until": None}
        if result.ok:
            values["sent_at"] = now
            delivered += 1
        else:
            wait = (
                timedelta(seconds=result.retry_after_seconds) if result.retry_after_seconds else backoff(row.attempts)
            )
            values.update(next_attempt_at=now + wait, last_error=result.error)
            if row.attempts >= config.alerts.max_attempts:
                values["failed_at"] = now
            log.warning("alert %s to %s not delivered (attempt %d): %s", row.id, row.route, row.attempts, result.error)
        with store.transaction() as connection:
            connection.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
    return delivered
