"""The `reputation` command line. Each command is a thin shell over a plain function."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.logging import RichHandler
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from reputation import __version__
from reputation.alerting import RaisedAlert, load_alerting
from reputation.cli.outbox import outbox_app
from reputation.cli.responses import responses as responses_command
from reputation.config import DATABASE_URL_ENV, Config, default_config_path, load_config
from reputation.connector import SourceSettings, load_connector
from reputation.errors import InputError, ReputationError, StoreError
from reputation.store import Store
from reputation.wording import snippet

app = typer.Typer(help="Catch angry customers' posts early and hand them to a person.", no_args_is_help=True)
connectors_app = typer.Typer(help="Installed platform connectors.", no_args_is_help=True)
cascades_app = typer.Typer(help="Spread of posts through replies, quotes and reshares.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")
issues_app = typer.Typer(help="Complaint issues: their ids, labels and changes.", no_args_is_help=True)
app.add_typer(cascades_app, name="cascades")
app.add_typer(issues_app, name="issues")
app.add_typer(outbox_app, name="outbox")
app.command("responses")(responses_command)

out = Console()
err = Console(stderr=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="reputation.yaml (default: $REPUTATION_CONFIG or ./reputation.yaml)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output on stdout")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(Text("error: ", style="bold red") + Text(message))
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Known errors become one clear paragraph and a non-zero exit, never a traceback."""
    try:
        yield
    except ReputationError as error:
        raise _fail(str(error)) from None


def _config(path: Path | None) -> Config:
    return load_config(path or default_config_path())


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what each step does")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, markup=False)],
    )


def print_alert(alert: RaisedAlert) -> None:
    style = {"critical": "bold red", "high": "red", "medium": "yellow"}.get(alert.severity, "white")
    # Text(), not markup: the summary quotes strangers' posts verbatim.
    out.print(Panel(Text(alert.summary), title=Text(f"[{alert.severity.upper()}] {alert.title}"), border_style=style))


def _cycle(store: Store, config: Config, *, quiet: bool = False) -> dict[str, Any]:
    from reputation.enrichment import Enricher
    from reputation.pipeline import run_cycle

    with _progress() as progress:
        task = progress.add_task("enriching", total=None)
        report = run_cycle(
            store, config, load_alerting(), enricher=Enricher(config), progress=lambda n: progress.advance(task, n)
        )
    sources: list[dict[str, Any]] = [
        {
            "source": c.run.source,
            "fetched": c.run.fetched,
            "stored_new": c.run.stored,
            "off_topic": c.off_topic,
            "skipped": len(c.problems),
            "quarantined": len(c.quarantined),
            "degraded": c.run.degraded,
            "error": c.run.error,
        }
        for c in report.collected
    ]
    summary: dict[str, Any] = {
        "sources": sources,
        "enriched": report.enriched.enriched,
        "complaints": report.enriched.complaints,
        "cascades_updated": report.enriched.cascades,
        "alerts": [alert.__dict__ for alert in report.alerts],
        "delivered": report.delivered,
    }
    if not quiet:
        for collected in report.collected:
            for problem in collected.problems[:20]:
                err.print(Text(f"skipped {problem}", style="yellow"))
            for refused in collected.quarantined[:20]:
                err.print(Text(f"quarantined {refused}", style="yellow"))
            if collected.run.error:
                err.print(Text(f"source {collected.run.source} failed: {collected.run.error}", style="red"))
        for alert in report.alerts:
            print_alert(alert)
        table = Table(title="Cycle", show_header=True)
        for column in ("source", "fetched", "new", "off-topic", "skipped", "quarantined", "degraded", "status"):
            table.add_column(column)
        for s in sources:
            table.add_row(
                s["source"],
                str(s["fetched"]),
                str(s["stored_new"]),
                str(s["off_topic"]),
                str(s["skipped"]),
                str(s["quarantined"]),
                str(s["degraded"]),
                Text("failed" if s["error"] else "ok"),
            )
        out.print(table)
        out.print(
            f"enriched {summary['enriched']} mentions ({summary['complaints']} complaints), "
            f"{len(report.alerts)} new alerts, {report.delivered} delivered to Slack"
        )
    return summary


@app.command()
def run(
    config: ConfigOption = None,
    watch: Annotated[bool, typer.Option("--watch", help="repeat the cycle until interrupted")] = False,
    interval: Annotated[int, typer.Option(help="seconds between cycles with --watch", min=1)] = 60,
    as_json: JsonOption = False,
) -> None:
    """One cycle (or a loop) over every configured source: fetch, enrich, detect, alert."""
    with _errors():
        settings = _config(config)
        store = Store.open(settings.resolved_database_url())
        while True:
            started = time.monotonic()
            try:
                summary = _cycle(store, settings, quiet=as_json)
            except StoreError as error:
                if not watch:
                    raise
                # A watcher outlives a database outage: the next cycle picks up where this one stopped.
                err.print(Text(f"cycle failed, retrying in {interval} s: {error}", style="red"))
            else:
                if as_json:
                    print(json.dumps(summary, default=str), flush=True)
            if not watch:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[:-1].isdigit() and value[-1] in units:
        return datetime.now(UTC) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--since {value!r}: use an ISO-8601 time (2026-01-05T10:00Z) or an age like 6h, 2d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def fetch(
    source: Annotated[str, typer.Argument(help="connector name, as in `reputation connectors list`")],
    query: Annotated[str, typer.Option("--query", "-q", help="search query (for replay: the file)")] = "",
    base_url: Annotated[str | None, typer.Option(help="replace the platform's API root (tests, proxies)")] = None,
    since: Annotated[
        str | None, typer.Option(help="only mentions created at or after this (ISO time or 6h, 2d)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="stop after this many mentions", min=1)] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(help="a source option as KEY=VALUE (VALUE read as YAML: country=gb, feeds=[a, b]); repeatable"),
    ] = None,
) -> None:
    """One connector's normalized mentions as JSON lines on stdout."""
    with _errors():
        since_at = _parse_since(since)
        options = _parse_options(option or [])
        connector = load_connector(source)(
            SourceSettings(name=source, query=query, base_url=base_url, limit=limit, options=options, env=os.environ)
        )
        printed = 0
        for batch in connector.fetch(query, None):
            for problem in batch.problems:
                err.print(Text(f"skipped {problem}", style="yellow"))
            for mention in batch.mentions:
                if since_at and mention.created_at < since_at:
                    continue
                sys.stdout.write(json.dumps(mention.to_json_dict(), ensure_ascii=False) + "\n")
                printed += 1
                if limit and printed >= limit:
                    return


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ReputationError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            raise ReputationError(f"--option {key.strip()}: the value is not valid YAML") from None
    return options


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(help="JSONL, CSV or TSV file of texts")],
    text_column: Annotated[str, typer.Option(help="field that holds the text")] = "text",
    id_column: Annotated[str, typer.Option(help="field that holds the id (else the row number)")] = "id",
    label_column: Annotated[
        str, typer.Option(help="field with gold labels; metrics are printed when present")
    ] = "label",
    brand_column: Annotated[
        str, typer.Option(help="field naming each text's brand; issues are found per brand when present")
    ] = "brand",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write one JSON line per input row")] = None,
    embedder: Annotated[
        str,
        typer.Option(help="issue embedder: auto (MiniLM when installed), minilm, or hashing (much faster)"),
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Sentiment, intent and issue for every text of a file, with metrics when labels are present."""
    from reputation.cli.analyze import analyze_file
    from reputation.text.embeddings import make_embedder

    with _errors(), _progress() as progress:
        task = progress.add_task("analyzing", total=None)
        report = analyze_file(
            file,
            text_column=text_column,
            id_column=id_column,
            label_column=label_column,
            brand_column=brand_column,
            output=output,
            progress=lambda n: progress.advance(task, n),
            embedder=make_embedder(embedder),
        )
    if as_json:
        print(json.dumps(report.to_dict(), default=str))
    else:
        out.print(report.render())


@cascades_app.command("predict")
def cascades_predict(
    file: Annotated[Path, typer.Argument(help="CSV with columns cascade_id,time,followers, or .jsonl")],
    observe: Annotated[float, typer.Option("--observe", help="seconds since each root post to use")],
) -> None:
    """Predicted final size of each cascade in an event file, with its 90% range, one JSON line each."""
    from reputation.cli.cascade_csv import predict_csv

    with _errors():
        for line in predict_csv(file, observe):
            sys.stdout.write(json.dumps(line) + "\n")


@issues_app.command("list")
def issues_list(
    config: ConfigOption = None,
    brand: Annotated[str | None, typer.Option(help="one brand (default: all)")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, biggest first", min=1)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Issues still being matched, with the ids that `issues.rename` and `issues.merge` take."""
    from reputation.issues.catalog import live_issues, unsorted_complaints

    with _errors():
        settings = _config(config)
        if brand is not None:
            settings.brand(brand)  # names the brands there are when it is not one
        store = Store.open(settings.resolved_database_url())
        with store.engine.connect() as connection:
            found = live_issues(connection, datetime.now(UTC), brand, limit)
            pool = unsorted_complaints(connection, datetime.now(UTC), brand)
    if as_json:
        for entry in found:
            print(json.dumps({**asdict(entry), "examples": list(entry.examples)}, default=str))
        return
    # Narrow enough for a terminal; `issues show ID` has the typical posts and the changes.
    table = Table(title="Issues")
    table.add_column("id", no_wrap=True)
    table.add_column("topic > issue", overflow="fold")
    table.add_column("posts", justify="right")
    table.add_column("brand", overflow="fold")
    table.add_column("last seen (UTC)", no_wrap=True)
    for entry in found:
        table.add_row(
            entry.id,
            Text(entry.title + (" (named)" if entry.named_by_a_person else "")),
            str(entry.posts),
            Text(entry.brand or ""),
            f"{entry.last_seen_at:%Y-%m-%d %H:%M}",
        )
    out.print(table if found else "no issues seen in the last 30 days")
    out.print(f"{pool} complaints unsorted (too few alike yet to make an issue)")


@issues_app.command("show")
def issues_show(
    issue_id: Annotated[str, typer.Argument(help="an id from `reputation issues list`")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One issue: label, size, typical posts, and its merges, splits and renames."""
    from reputation.issues.catalog import find_issue

    with _errors():
        settings = _config(config)
        store = Store.open(settings.resolved_database_url())
        with store.engine.connect() as connection:
            entry, changes = find_issue(connection, issue_id)
    if as_json:
        print(
            json.dumps(
                {
                    **asdict(entry),
                    "examples": list(entry.examples),
                    "changes": [{**asdict(c), "description": c.describe(entry.id)} for c in changes],
                },
                default=str,
            )
        )
        return
    # Labels and examples are text from the internet: rich must not read them as markup.
    # One line each, unwrapped, so ids and changes can be copied and grepped.
    out.print(
        Text(f"{entry.id}: {entry.title}" + (" (named by a person)" if entry.named_by_a_person else "")), soft_wrap=True
    )
    out.print(
        f"{entry.posts} posts, first seen {entry.created_at:%Y-%m-%d %H:%M} UTC,"
        f" last seen {entry.last_seen_at:%Y-%m-%d %H:%M} UTC"
        + (f"; merged into {entry.merged_into}" if entry.merged_into else ""),
        soft_wrap=True,
    )
    for example in entry.examples:
        out.print(Text(f"  \u201c{snippet(example, 280)}\u201d"), soft_wrap=True)
    for change in changes:
        out.print(Text(f"{change.at:%Y-%m-%d %H:%M} {change.describe(entry.id)}"), soft_wrap=True)


@app.command()
def digest(
    config: ConfigOption = None,
    day: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD, the local date the day begins on (default: now)")
    ] = None,
    brand: Annotated[str | None, typer.Option(help="one brand (default: all)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file to write")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="also send the Slack summary and the email, where configured")
    ] = False,
) -> None:
    """Build the daily digest as a self-contained HTML page, and send it with --send."""
    with _errors():
        settings = _config(config)
        try:
            chosen = date.fromisoformat(day) if day else None
        except ValueError:
            raise InputError(f"--date {day!r}: use YYYY-MM-DD") from None
        zone = (settings.brand(brand) if brand else settings.brands[0]).zone
        target = output or settings.digest.file_path(brand, chosen or settings.digest.day_of(datetime.now(UTC), zone))
        if send:
            settings = settings.with_digest(send=True)
        store = Store.open(settings.resolved_database_url())
        alerting = load_alerting()
        # The engine logs what each channel sent, or why not: show that without --verbose.
        engine_log = logging.getLogger(type(alerting).__module__.partition(".")[0])
        level = engine_log.level
        if settings.digest.send:
            engine_log.setLevel(logging.INFO)
        try:
            written = alerting.digest(store, settings, chosen, brand, target)
        finally:
            engine_log.setLevel(level)
        out.print(f"digest written to {written}" + (" and sent" if settings.digest.send else ""))


@connectors_app.command("list")
def connectors_list(as_json: JsonOption = False) -> None:
    """Installed connectors, their versions and whether their credentials are set."""
    from reputation.connector import connector_entry_points

    rows: list[dict[str, Any]] = []
    for name, entry in sorted(connector_entry_points().items()):
        factory = entry.load()
        credentials = list(getattr(factory, "credentials", ()))
        rows.append(
            {
                "name": name,
                "version": entry.dist.version if entry.dist else "unknown",
                "module": entry.value,
                "credentials": {variable: bool(os.environ.get(variable)) for variable in credentials},
            }
        )
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("connector", "version", "module", "credentials")
    for row in rows:
        creds = ", ".join(f"{k} {'set' if v else 'MISSING'}" for k, v in row["credentials"].items()) or "none needed"
        table.add_row(row["name"], row["version"], row["module"], creds)
    out.print(table)


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check configuration, database, NLP models, credentials and Slack reachability."""
    from reputation.cli.doctor import run_checks

    checks = run_checks(config or default_config_path())
    table = Table("check", "result", "detail")
    for check in checks:
        table.add_row(
            check.name,
            Text("ok" if check.ok else "FAIL", style="green" if check.ok else "bold red"),
            Text(check.detail),
        )
    out.print(table)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 3000,
) -> None:
    """Answer Slack's interactivity requests (POST /slack/actions): acknowledge, assign, resolve."""
    with _errors():
        settings = _config(config)
        store = Store.open(settings.resolved_database_url())
        out.print(f"listening on http://{host}:{port}/slack/actions (Ctrl-C to stop)")
        with suppress(KeyboardInterrupt):
            load_alerting().serve(store, host, port)


@app.command()
def bench(
    as_json: JsonOption = False,
    postgres_url: Annotated[
        str | None,
        typer.Option(help="a PostgreSQL server for the scaling run (scratch databases are created and dropped)"),
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    stored: Annotated[int, typer.Option(help="mentions already stored in the large scaling run")] = 1_000_000,
    texts: Annotated[int, typer.Option(help="mentions in the throughput run")] = 5000,
) -> None:
    """Throughput of the pipeline beside its bare models, and cycle cost at 10,000 vs STORED mentions."""
    from reputation.cli.bench import as_dicts, run

    with _errors():
        figures = run(postgres_url or None, 10_000, stored, texts)
    if as_json:
        print(json.dumps(as_dicts(figures)))
        return
    table = Table("measure", "value", "unit", "detail", title="reputation bench")
    for figure in figures:
        table.add_row(figure.name, f"{figure.value:,.2f}", figure.unit, figure.detail)
    out.print(table)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo's database, config and digest go")] = Path(
        "demo-output"
    ),
) -> None:
    """The whole pipeline on bundled sample data with the embedded SQLite store."""
    with _errors():
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "reputation.yaml"
        shutil.copyfile(str(resources.files("reputation.sample") / "demo.yaml"), config_path)
        database = workdir / "reputation.db"
        for stale in workdir.glob("reputation.db*"):
            stale.unlink()  # a fresh store each time, so the demo always shows its alerts
        settings = load_config(config_path)
        # The config's own database, not $REPUTATION_DATABASE_URL: the demo never writes into a real store.
        store = Store.open(settings.database_url or f"sqlite:///{database.absolute()}")
        out.print(
            Text(
                f"Reputation monitor {__version__} demo: replaying a few days of mentions of "
                f"{', '.join(b.name for b in settings.brands)}\n",
                style="bold",
            )
        )
        _cycle(store, settings)
        target = workdir / "digest.html"
        load_alerting().digest(store, day_ending_after(settings, datetime.now(UTC)), None, None, target)
        out.print(f"\ndigest of the 24 hours up to now written to {target}")
        out.print(f"config: {config_path}  database: {database}")
        if not os.environ.get("SLACK_WEBHOOK_URL"):
            out.print("set SLACK_WEBHOOK_URL to an incoming-webhook URL to receive these alerts in Slack")
        _print_next_commands(config_path)


def day_ending_after(settings: Config, moment: datetime) -> Config:
    """The settings with a digest day that ends in the minute after `moment`.

    The demo replays its sample to end now; a calendar day would show only what
    it holds after local midnight, nearly nothing just after 00:00.
    """
    local = moment.astimezone(settings.brands[0].zone)
    starts = (local + timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    return settings.with_digest(day_starts_at=starts)


def _shown(path: Path) -> str:
    """A path as the user would type it here: relative inside the working directory, else absolute."""
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    return str(relative) if len(relative.parts) > 1 else f"./{relative}"


def _program() -> str:
    """How to run this same `reputation` again from the working directory, venv activated or not."""
    script = Path(sys.argv[0])
    if script.name == "reputation" and script.is_file():
        on_path = shutil.which("reputation")
        if on_path and Path(on_path).resolve() == script.resolve():
            return "reputation"
        return shlex.quote(_shown(script))  # e.g. .venv/bin/reputation after `make demo`
    return f"{shlex.quote(_shown(Path(sys.executable)))} -m reputation"


def _print_next_commands(config_path: Path) -> None:
    program, config = _program(), shlex.quote(_shown(config_path))
    out.print("\nNext, from this directory (the same database; nothing is stored or sent twice):")
    for command in ("digest", "issues list", "run"):
        # One unwrapped line each, so that it can be copied as it is.
        out.print(Text(f"  {program} {command} --config {config}"), soft_wrap=True)
    if os.environ.get(DATABASE_URL_ENV):
        out.print(Text(f"(unset {DATABASE_URL_ENV} first: it overrides the demo's database)", style="yellow"))


def entrypoint() -> None:
    app()


@connectors_app.command("new")
def connectors_new(
    name: Annotated[str, typer.Argument(help="the platform's name: lowercase letters, digits and _")],
    directory: Annotated[Path, typer.Option(help="the project root to write into")] = Path("."),
) -> None:
    """Scaffold a connector module, its local fake and its contract test."""
    from reputation.cli.scaffold import entry_point_line, scaffold

    with _errors():
        written = scaffold(name, directory)
    for path in written:
        out.print(Text(f"created {path}"))
    out.print(Text(f"\nFill in fetch() in {written[0]}, then register it in pyproject.toml and reinstall:\n"))
    out.print(Text(f'[project.entry-points."reputation.connectors"]\n{entry_point_line(name)}'))
    out.print(Text(f"\nCheck it with: pytest {written[2]}"))
