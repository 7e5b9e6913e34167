"""`reputation outbox list|retry`: the alerts Slack has not taken yet, and resending them.

The outbox never gives up on an alert: one past its attempts is parked and
retried hourly. An operator who has fixed the cause (a revoked webhook, a
renamed channel) resends at once instead of waiting for that schedule.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select, update

from reputation.alerting import load_alerting
from reputation.config import default_config_path, load_config
from reputation.errors import ReputationError
from reputation.store import Store, as_utc
from reputation.store.schema import outbox, outbox_routes

outbox_app = typer.Typer(help="Alerts not yet delivered to Slack: list them, resend them.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="reputation.yaml (default: $REPUTATION_CONFIG or ./reputation.yaml)"),
]


def _open(path: Path | None) -> tuple[Any, Store]:
    try:
        config = load_config(path or default_config_path())
        return config, Store.open(config.resolved_database_url())
    except ReputationError as error:
        err.print(Text("error: ", style="bold red") + Text(str(error)))
        raise typer.Exit(1) from None


def undelivered(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                outbox.c.id,
                outbox.c.incident_id,
                outbox.c.route,
                outbox.c.attempts,
                outbox.c.next_attempt_at,
                outbox.c.failed_at,
                outbox.c.last_error,
            )
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
        ).all()
    return [
        {
            "id": row.id,
            "incident": row.incident_id,
            "route": row.route,
            "attempts": row.attempts,
            "state": "parked" if row.failed_at is not None else "retrying",
            "next_attempt_at": as_utc(row.next_attempt_at).isoformat(),
            "last_error": row.last_error,
        }
        for row in rows
    ]


@outbox_app.command("list")
def list_rows(config: ConfigOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every alert not delivered yet: retrying (in its backoff) or parked (past max attempts, retried hourly)."""
    _, store = _open(config)
    rows = undelivered(store)
    store.close()
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    table = Table("id", "incident", "route", "attempts", "state", "next attempt", "last error", title="outbox")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["incident"]),
            Text(row["route"]),
            str(row["attempts"]),
            row["state"],
            row["next_attempt_at"][:19],
            Text(row["last_error"] or ""),  # Text: an endpoint's words, never markup
        )
    out.print(table)
    out.print(f"{len(rows)} undelivered ({sum(r['state'] == 'parked' for r in rows)} parked)")


@outbox_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="outbox ids (see `reputation outbox list`)")] = None,
    every: Annotated[bool, typer.Option("--all", help="every undelivered alert")] = False,
    config: ConfigOption = None,
) -> None:
    """Resend now: the alerts' attempts and their routes' backoff start over."""
    if bool(ids) == every:
        err.print(Text("error: ", style="bold red") + Text("give outbox ids or --all, not both"))
        raise typer.Exit(2)
    settings, store = _open(config)
    now = datetime.now(UTC)
    chosen = outbox.c.sent_at.is_(None) if every else outbox.c.id.in_(ids or [])
    with store.transaction() as connection:
        routes = set(connection.scalars(select(outbox.c.route).where(chosen, outbox.c.sent_at.is_(None))))
        reset = connection.execute(
            update(outbox)
            .where(chosen, outbox.c.sent_at.is_(None))
            .values(attempts=0, failed_at=None, next_attempt_at=now, claimed_until=None)
        ).rowcount
        if routes:
            connection.execute(
                update(outbox_routes).where(outbox_routes.c.route.in_(routes)).values(paused_until=now, failures=0)
            )
    if not every and reset != len(set(ids or [])):
        err.print(Text(f"{len(set(ids or [])) - reset} of those ids are unknown or already delivered", style="yellow"))
    try:
        delivered = load_alerting().deliver(store, settings, now)
    except ReputationError as error:
        err.print(Text("error: ", style="bold red") + Text(str(error)))
        raise typer.Exit(1) from None
    finally:
        store.close()
    out.print(f"{reset} queued again, {delivered} delivered now")
