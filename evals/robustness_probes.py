"""Issue 22's probes, rerun against real `reputation` processes: nothing lost, nothing stuck.

    python -m evals.robustness_probes [--postgres URL] [--burst-seconds 40] [--only NAME ...]

Each probe starts the CLI as a user would (`python -m reputation ...`), with a
local Slack receiver (tests/fakes/slack.py) or a hostile client on 127.0.0.1,
and prints one JSON line of counts. Timings depend on the machine's load; the
counts do not.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, select, text

from reputation.cli.bench import scratch_postgres
from reputation.store.schema import mentions, outbox, quarantine
from tests.fakes.slack import SlackReceiver, slack_receiver
from tests.scenario import write_story

REPO = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "probe-signing-secret-0123456789"


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "reputation", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(output: str) -> dict[str, Any]:
    return dict(json.loads(output.strip().splitlines()[-1]))


def config_file(folder: Path, source: Path, database_url: str, extra: str = "") -> Path:
    path = folder / "reputation.yaml"
    path.write_text(
        f"database_url: {database_url}\n"
        'brands: [{name: Voltmart, aliases: ["@Voltmart"]}]\n'
        f'sources: [{{name: probe, type: replay, options: {{path: "{source}"}}}}]\n' + extra
    )
    return path


# --- 1. values the store refuses, and a half-written line -------------------------------------------


def _line(native_id: str, **override: Any) -> str:
    record: dict[str, Any] = {
        "platform": "x",
        "native_id": native_id,
        "kind": "post",
        "text": f"Voltmart refund {native_id}",
        "created_at": "2026-01-08T12:00:00Z",
        "author": {"id": f"u-{native_id}", "handle": f"h{native_id}"},
    }
    for key, value in override.items():
        if key.startswith("author_"):
            record["author"][key.removeprefix("author_")] = value
        else:
            record[key] = value
    return json.dumps(record) + "\n"  # ensure_ascii: a lone surrogate goes out as \udXXX, as broken JSON has it


HOSTILE: dict[str, dict[str, Any]] = {
    "surrogate_handle": {"author_handle": "a\ud800b"},
    "nul_handle": {"author_handle": "a\x00b"},
    "rtl_handle": {"author_handle": "\u202egnp.exe"},
    "nul_raw": {"raw": {"k\x00": "v\x00", "s": "\udfff"}},
    "followers_2_63": {"author_followers": 2**63},
    "followers_2_31": {"author_followers": 2**31},
    "long_platform": {"platform": "p" * 41},
    "long_handle": {"author_handle": "h" * 301},
    "long_language": {"language": "l" * 17},
    "nul_text": {"text": "Voltmart \x00 refund"},
    "long_author_id": {"author_id": "a" * 600},
    "likes_2_63": {"metrics": {"likes": 2**63}},
    "huge_raw_int": {"raw": {"n": 10**30}},
}


def probe_poison(folder: Path, database_url: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "poison.jsonl"
    lines, good = [], []
    for index, (name, override) in enumerate(itertools_cycle(HOSTILE, 20)):
        good.append(f"good{index}")
        lines += [_line(f"good{index}"), _line(f"bad{index}-{name}", **override)]
    lines.append(_line("good-last"))
    good.append("good-last")
    half = _line("half-written")
    source.write_text("".join(lines) + half[: len(half) // 2])
    config = config_file(folder, source, database_url)
    runs = [last_json(cli("run", "--config", str(config), "--json", cwd=folder).stdout) for _ in range(3)]
    with source.open("a") as handle:
        handle.write(half[len(half) // 2 :])  # the writer finishes the line
    runs.append(last_json(cli("run", "--config", str(config), "--json", cwd=folder).stdout))
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored_ids = set(connection.scalars(select(mentions.c.native_id)))
        quarantined = connection.scalar(select(func.count()).select_from(quarantine))
    engine.dispose()
    bad = len(lines) - len(good)
    reported = sum(r["sources"][0]["skipped"] + r["sources"][0]["quarantined"] for r in runs)
    stored_bad = sum(1 for native_id in stored_ids if native_id.startswith("bad"))
    return {
        "probe": "poison_rows",
        "engine": database_url.split(":", 1)[0],
        "lines": len(lines) + 1,
        "good_lines": len(good) + 1,
        "good_stored": sum(1 for g in [*good, "half-written"] if g in stored_ids),
        "hostile_lines": bad,
        "hostile_stored_cleaned": stored_bad,
        "hostile_reported": reported,
        "quarantined_rows": quarantined,
        "hostile_unaccounted": bad - stored_bad - reported,
        "runs_failed": sum(1 for r in runs if r["sources"][0]["error"]),
        "stuck_sources": int(any(r["sources"][0]["error"] for r in runs) or "half-written" not in stored_ids),
    }


def itertools_cycle(cases: dict[str, dict[str, Any]], count: int) -> Iterator[tuple[str, dict[str, Any]]]:
    items = list(cases.items())
    for index in range(count):
        yield items[index % len(items)]


# --- 2. Slack answering 429 (and 5xx) for a while -----------------------------------------------------


@contextmanager
def failing_for(receiver: SlackReceiver, phases: list[tuple[int, float]]) -> Iterator[None]:
    """Every webhook call fails with `status` during each phase's seconds, in order; then Slack is fine."""
    stop = threading.Event()

    def script() -> None:
        for status, seconds in phases:
            ends = time.monotonic() + seconds
            while time.monotonic() < ends and not stop.is_set():
                with receiver.lock:
                    receiver.fail_with[:] = [status] * 1000
                time.sleep(0.05)
        with receiver.lock:
            receiver.fail_with.clear()

    thread = threading.Thread(target=script, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def probe_rate_limits(folder: Path, phases: list[tuple[int, float]], patience_seconds: float) -> dict[str, Any]:
    workdir = folder / "demo"
    with slack_receiver() as slack:
        slack.retry_after_seconds = 1
        env = {"SLACK_WEBHOOK_URL": slack.url}
        started = time.monotonic()
        with failing_for(slack, phases):
            demo = cli("demo", "--workdir", str(workdir), cwd=folder, env=env)
            cycles = 0
            database = create_engine(f"sqlite:///{workdir / 'reputation.db'}")
            while time.monotonic() - started < sum(s for _, s in phases) + patience_seconds:
                with database.connect() as connection:
                    unsent = connection.scalar(select(func.count()).where(outbox.c.sent_at.is_(None)))
                if not unsent and time.monotonic() - started > sum(s for _, s in phases):
                    break
                time.sleep(10)
                cli("run", "--config", "reputation.yaml", "--json", cwd=workdir, env=env)
                cycles += 1
        with database.connect() as connection:
            queued = connection.scalar(select(func.count()).select_from(outbox))
            unsent = connection.scalar(select(func.count()).where(outbox.c.sent_at.is_(None)))
            parked = connection.scalar(select(func.count()).where(outbox.c.failed_at.is_not(None)))
        database.dispose()
        received = Counter(json.dumps(message, sort_keys=True) for message in slack.messages)
    return {
        "probe": "slack_rate_limits",
        "phases": [{"status": status, "seconds": seconds} for status, seconds in phases],
        "demo_exit": demo.returncode,
        "cycles_after_demo": cycles,
        "alerts_queued": queued,
        "alerts_received": sum(received.values()),
        "alerts_received_twice": sum(1 for n in received.values() if n > 1),
        "alerts_lost": unsent,
        "ever_parked": parked,
        "seconds_to_all_delivered": round(time.monotonic() - started, 1),
    }


# --- 3. a replay file appended in fragments while runs happen ------------------------------------------


def probe_appends(folder: Path, database_url: str, lines: int = 400) -> dict[str, Any]:
    source = folder / "growing.jsonl"
    source.write_text("")
    data = "".join(_line(f"a{i}", text=f"Voltmart refund é {i}") for i in range(lines)).encode()
    config = config_file(folder, source, database_url)
    done = threading.Event()

    def writer() -> None:
        position = 0
        step = 0
        while position < len(data):
            size = 37 + (step * 7919) % 1500  # fragments that cut lines and characters anywhere
            with source.open("ab") as handle:
                handle.write(data[position : position + size])
            position += size
            step += 1
            time.sleep(0.05)
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    runs = 0
    while not done.is_set():
        cli("run", "--config", str(config), "--json", cwd=folder)
        runs += 1
    cli("run", "--config", str(config), "--json", cwd=folder)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).where(mentions.c.native_id.like("a%")))
    engine.dispose()
    return {
        "probe": "replay_appends",
        "lines_written": lines,
        "runs": runs + 1,
        "stored": stored,
        "lost": lines - (stored or 0),
    }


# --- 4. two workers enriching over PostgreSQL -------------------------------------------------------------


def probe_two_workers(folder: Path, database_url: str, lines: int = 600) -> dict[str, Any]:
    source = folder / "many.jsonl"
    words = ["refund", "never", "arrived", "broken", "love", "crash", "login", "thanks"]
    source.write_text(
        "".join(_line(f"w{i}", text=f"Voltmart {words[i % 8]} {words[(i * 3) % 8]} {i}") for i in range(lines))
    )
    config = config_file(folder, source, database_url)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "reputation", "run", "--config", str(config), "--json"]
    workers = [
        subprocess.Popen(
            command, cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=900) for worker in workers]
    reports = [last_json(out) for out, _ in outputs if out.strip()]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(mentions))
    engine.dispose()
    enriched = sum(report["enriched"] for report in reports)
    return {
        "probe": "two_workers",
        "engine": database_url.split(":", 1)[0],
        "mentions": stored,
        "enrichments_done": enriched,
        "duplicate_enrichments": enriched - (stored or 0),
        "workers_failed": sum(1 for w in workers if w.returncode != 0),
    }


# --- 5. hostile requests to `reputation serve` --------------------------------------------------------------


def _raw(port: int, payload: bytes, timeout: float = 15.0) -> int:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(payload)
            answer = connection.recv(64)
    except OSError:
        return 0
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def _post(body: bytes, signed: bool, length: str | None = None) -> bytes:
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: v0={digest if signed else '0'}\r\n"
    head = f"POST /slack/actions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {length or len(body)}\r\n"
    return (head + headers + "\r\n").encode() + body


def _actions(**override: Any) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH"},
        "message": {"blocks": []},
        "actions": [{"action_id": "acknowledge", "block_id": "incident-actions:1"}],
        **override,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def probe_serve(folder: Path, half_sent: int = 500) -> dict[str, Any]:
    source = write_story(folder / "story.jsonl")
    config = config_file(folder, source, f"sqlite:///{folder / 'serve.db'}")
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    server = subprocess.Popen(
        [sys.executable, "-m", "reputation", "serve", "--config", str(config), "--port", str(port)],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while _raw(port, b"GET /healthz HTTP/1.1\r\n\r\n", 1) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    cases: dict[str, bytes] = {
        "content_length_abc": _post(b"payload=x", False, "abc"),
        "non_utf8_unsigned": _post(b"payload=\xff\xfe", False),
        "non_utf8_signed": _post(b"payload=\xff\xfe", True),
        "deep_json_signed": _post(urlencode({"payload": "[" * 10_000 + "]" * 10_000}).encode(), True),
        "user_not_object": _post(_actions(user="U024BE7LH"), True),
        "message_not_object": _post(_actions(message="x"), True),
        "incident_10e30": _post(
            _actions(actions=[{"action_id": "acknowledge", "block_id": f"incident-actions:{10**30}"}]), True
        ),
        "too_large": _post(b"", False, "99999999"),
        "unsigned": _post(_actions(), False),
    }
    answers = {name: _raw(port, request) for name, request in cases.items()}
    stalled = []
    for _ in range(half_sent):
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(b"POST /slack/actions HTTP/1.1\r\nContent-Length: 100\r\n\r\npay")
            stalled.append(connection)
        except OSError:
            break
    time.sleep(1)
    during = _raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")
    time.sleep(12)  # past the socket timeout
    after = _raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")
    threads = len(os.listdir(f"/proc/{server.pid}/task")) if Path(f"/proc/{server.pid}/task").exists() else -1
    for connection in stalled:
        connection.close()
    server.terminate()
    _, errors = server.communicate(timeout=30)
    return {
        "probe": "serve",
        "answers": answers,
        "unanswered": sum(1 for s in answers.values() if s == 0),
        "half_sent_connections": len(stalled),
        "healthz_while_stalled": during,
        "healthz_after_timeout": after,
        "server_threads": threads,
        "tracebacks_in_stderr": errors.count("Traceback"),
    }


# --- 6. an endpoint that echoes the webhook URL ------------------------------------------------------------

SECRET_PATH = "probeSecretWebhookToken0042"


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = f"invalid_token for {self.path} at http://{self.headers['Host']}{self.path}".encode()
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def probe_secrets(folder: Path) -> dict[str, Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T0PROBE/B0PROBE/{SECRET_PATH}"
    source = write_story(folder / "story.jsonl")
    database = folder / "secrets.db"
    config = config_file(
        folder, source, f"sqlite:///{database}", "alerts: {rules: {detractor: {min_reach: 20000, min_cascade: 10}}}\n"
    )
    env = {"SLACK_WEBHOOK_URL": url}
    outputs = [
        cli("-v", "run", "--config", str(config), cwd=folder, env=env),
        cli("-v", "digest", "--config", str(config), "--send", "--output", str(folder / "d.html"), cwd=folder, env=env),
        cli("outbox", "list", "--config", str(config), cwd=folder, env=env),
        cli("doctor", "--config", str(config), cwd=folder, env=env),
    ]
    server.shutdown()
    server.server_close()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        tables = [row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        in_database = sum(
            str(row).count(SECRET_PATH)
            for table in tables
            for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        )
    engine.dispose()
    return {
        "probe": "secrets",
        "in_output": sum((o.stdout + o.stderr).count(SECRET_PATH) for o in outputs),
        "in_database": in_database,
        "errors_seen": sum((o.stdout + o.stderr).count("[redacted]") for o in outputs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--burst-seconds", type=float, default=40)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    probes: dict[str, Callable[[Path], list[dict[str, Any]]]] = {
        "poison": lambda f: [
            probe_poison(f / "s", f"sqlite:///{f / 's' / 'p.db'}"),
            *_on_postgres(args.postgres, f / "p", probe_poison),
        ],
        "burst": lambda f: [probe_rate_limits(f, [(429, args.burst_seconds)], 120)],
        "outage": lambda f: [probe_rate_limits(f, [(500, 70), (429, 70)], 150)],
        "appends": lambda f: [probe_appends(f, f"sqlite:///{f / 'a.db'}")],
        "workers": lambda f: _on_postgres(args.postgres, f, probe_two_workers),
        "serve": lambda f: [probe_serve(f)],
        "secrets": lambda f: [probe_secrets(f)],
    }
    for name, probe in probes.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"probe-{name}-") as folder:
            for result in probe(Path(folder)):
                print(json.dumps(result), flush=True)


def _on_postgres(admin_url: str, folder: Path, probe: Callable[[Path, str], dict[str, Any]]) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    for url in scratch_postgres(admin_url, prefix="reputation_probe"):
        return [probe(folder, url)]
    return []


if __name__ == "__main__":
    main()
