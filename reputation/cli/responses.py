"""`reputation responses`: per customer thread, whether and how the brand answered.

With --json, one object per line per thread: thread, author, brand, opened_at,
first_response_seconds (null when no owned account answered), responder,
canned, asked_again, outcome; then what the table shows besides (complaint,
asked_for, template, template_uses, issue_id, url).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reputation.config import Config, default_config_path, load_config
from reputation.errors import InputError, ReputationError
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import Thread, customer_threads
from reputation.store import Store
from reputation.wording import snippet

_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, now: datetime) -> datetime:
    """An age (30m, 6h, 7d) or an ISO-8601 time."""
    if value[:-1].isdigit() and value[-1:] in _UNITS:
        return now - timedelta(**{_UNITS[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--since {value!r}: use an age like 7d, 12h, 30m or an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def threads_for(config: Config, since: datetime, brand: str | None) -> list[Thread]:
    if brand is not None:
        config.brand(brand)  # names the brands there are when it is not one
    store = Store.open(config.resolved_database_url())
    try:
        with store.engine.connect() as connection:
            return customer_threads(connection, OwnedAccounts.from_config(config), since, brand)
    finally:
        store.close()


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "unanswered"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def render(threads: list[Thread], console: Console) -> None:
    table = Table(title=f"Customer threads ({len(threads)})")
    table.add_column("opened UTC", no_wrap=True)
    table.add_column("customer", overflow="fold", max_width=20)
    table.add_column("first reply", no_wrap=True)
    table.add_column("canned / asked again", overflow="fold", max_width=22)
    table.add_column("outcome", no_wrap=True)
    table.add_column("first post", overflow="fold", min_width=20)
    for thread in threads:
        flags = []
        if thread.canned:
            flags.append(f"canned (sent {thread.canned[0].uses}x)")
        if thread.asked_again:
            flags.append("asked again: " + ", ".join(thread.asked_again))
        seconds = thread.first_response_seconds
        answer = thread.answer
        if answer is None:
            reply = Text("unanswered", style="bold red" if thread.complaint else "")
        else:
            reply = Text(f"{_wait(seconds) if seconds is not None else 'time unknown'}\nby {answer.responder}")
        table.add_row(
            f"{thread.opened_at:%m-%d %H:%M}",
            # Text(), not markup: handles and posts are strangers' words.
            Text(f"@{thread.author} ({thread.platform})"),
            reply,
            Text("; ".join(flags), style="yellow" if flags else ""),
            thread.outcome,
            Text(("complaint: " if thread.complaint else "") + snippet(thread.first.text, 90)),
        )
    console.print(table)


def responses(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="reputation.yaml (default: $REPUTATION_CONFIG or ./reputation.yaml)"),
    ] = None,
    since: Annotated[str, typer.Option(help="threads opened since: an age (7d, 12h) or an ISO-8601 time")] = "7d",
    brand: Annotated[str | None, typer.Option(help="one brand (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per thread on stdout")] = False,
) -> None:
    """Per customer thread: when it opened, the brand's first answer, canned or asking again, and the outcome."""
    err = Console(stderr=True)
    try:
        settings = load_config(config or default_config_path())
        threads = threads_for(settings, parse_since(since, datetime.now(UTC)), brand)
    except ReputationError as error:
        err.print(Text("error: ", style="bold red") + Text(str(error)))
        raise typer.Exit(1) from None
    if as_json:
        for thread in threads:
            print(json.dumps(thread.to_json(), ensure_ascii=False))
        return
    if not any(b.owned_accounts for b in settings.brands):
        err.print("no brands[].owned_accounts configured: only company replies on reviews count as answers")
    render(threads, Console())
