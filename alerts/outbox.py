"""Delivering the outbox: claim a row, send it, record the outcome.

A row is claimed with a compare-and-set on its lease, so two workers never
send the same row. Backoff is kept per route (`outbox_routes`): a route that
answered 429, 5xx or nothing is not sent to again until its pause ends, which
grows exponentially with its failures in a row and is never shorter than
Slack's Retry-After, so the other due rows do not burn their attempts against
an endpoint that is refusing them. After `max_attempts` a row is parked, not
dropped: it is retried every PARKED_RETRY, listed by `doctor`, the digest and
`reputation outbox list`, and an operator can resend it at once.

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
from reputation.redaction import scrub
from reputation.store import Store, as_utc, upsert
from reputation.store.schema import outbox, outbox_routes

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BASE_BACKOFF = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=30)
PARKED_RETRY = timedelta(hours=1)

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


def _claim(store: Store, now: datetime, paused: set[str]) -> Any | None:
    with store.transaction() as connection:
        candidate = connection.execute(
            select(outbox.c.id)
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.next_attempt_at <= now,
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
                outbox.c.route.not_in(paused),
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
    delay: timedelta = BASE_BACKOFF * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_BACKOFF)


def route_wait(failures: int, retry_after_seconds: float | None) -> timedelta:
    """Exponential in the route's failures in a row; Slack's Retry-After is the floor, not the answer."""
    floor = timedelta(seconds=min(retry_after_seconds or 0.0, MAX_BACKOFF.total_seconds()))
    return max(backoff(failures), floor)


def route_trouble(result: SendResult) -> bool:
    """429, 5xx or no answer at all: the endpoint, not this one message, is the problem."""
    return result.status == 429 or result.status >= 500 or result.status == 0


def route_states(store: Store) -> dict[str, Any]:
    """Each route's backoff: paused_until, failures in a row, last error."""
    with store.engine.connect() as connection:
        return {row.route: row for row in connection.execute(select(outbox_routes))}


def _set_route(
    store: Store, route: str, paused_until: datetime, failures: int, error: str | None, now: datetime
) -> None:
    with store.transaction() as connection:
        upsert(
            connection,
            outbox_routes,
            [
                {
                    "route": route,
                    "paused_until": paused_until,
                    "failures": failures,
                    "last_error": error,
                    "updated_at": now,
                }
            ],
            keys=["route"],
            update=["paused_until", "failures", "last_error", "updated_at"],
        )


def route_secrets(route: Route | None, env: Mapping[str, str]) -> tuple[str, ...]:
    return (env.get(route.secret_env, ""),) if route is not None else ()


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
    states = route_states(store)
    paused = {name for name, state in states.items() if as_utc(state.paused_until) > now}
    failures = {name: int(state.failures) for name, state in states.items()}
    delivered = 0
    while (row := _claim(store, now, paused)) is not None:
        if row == ():
            continue
        route = routes.get(row.route)
        if route is None:
            result = SendResult(False, 0, None, f"route {row.route!r} is no longer configured")
        else:
            result = send(route, row, env)
        # An endpoint may echo the webhook URL (its path is the secret) or the token in an error body.
        error = scrub(result.error, route_secrets(route, env)) if result.error else None
        values: dict[str, Any] = {"claimed_until": None}
        if result.ok:
            values["sent_at"] = now
            delivered += 1
            if failures.get(row.route):
                failures[row.route] = 0
                _set_route(store, row.route, now, 0, None, now)
        else:
            wait = backoff(row.attempts)
            if route_trouble(result):
                failures[row.route] = failures.get(row.route, 0) + 1
                wait = route_wait(failures[row.route], result.retry_after_seconds)
                _set_route(store, row.route, now + wait, failures[row.route], error, now)
                paused.add(row.route)  # nothing more to this route in this round
            if row.attempts >= config.alerts.max_attempts:
                # Parked, never dropped: tried again on a slow schedule until it goes through.
                values["failed_at"] = row.failed_at or now
                wait = max(wait, PARKED_RETRY)
            values.update(next_attempt_at=now + wait, last_error=error)
            log.warning("alert %s to %s not delivered (attempt %d): %s", row.id, row.route, row.attempts, error)
        with store.transaction() as connection:
            connection.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
    return delivered
