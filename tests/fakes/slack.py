"""A local stand-in for Slack on 127.0.0.1: incoming webhooks and the Web API.

Webhooks answer as Slack does: 200 "ok", 429 with Retry-After, 500 on an
outage. The Web API serves chat.postMessage (JSON body, bearer token, message
metadata kept) and conversations.history (newest first, `oldest` filter,
metadata only with include_all_metadata), with Slack's {"ok": false, "error"}
bodies. `fail_with` scripts the next responses of either kind.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.serving import serving

BOT_TOKEN = "xoxb-test-0000-token"


@dataclass
class SlackReceiver:
    url: str = ""
    api_url: str = ""
    token: str = BOT_TOKEN
    messages: list[dict[str, Any]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list, repr=False)  # time.time() of each message
    fail_with: list[int] = field(default_factory=list, repr=False)
    retry_after_seconds: int = 1
    delay_seconds: float = 0.0
    # Slack has accepted the message but not answered yet: the window in which a crash leaves the outcome unknown.
    reply_delay_seconds: float = 0.0
    history_calls: int = 0  # conversations.history lookups: a retry asking whether its message arrived
    # Called with each accepted message before Slack answers (a test can crash the sender right there).
    on_accept: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clock: float = 1_700_000_000.0

    def accepted(self, message: dict[str, Any]) -> None:
        if self.on_accept is not None:
            self.on_accept(message)
        time.sleep(self.reply_delay_seconds)

    def next_ts(self) -> str:
        self._clock = max(self._clock + 0.0001, time.time())
        return f"{self._clock:.6f}"


def _form(text: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(text).items()}


def _handler(receiver: SlackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            with suppress(ConnectionError):  # the client gave up or was killed: Slack does not mind either
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", str(receiver.retry_after_seconds))
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def _api(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

        def _scripted_failure(self) -> int:
            time.sleep(receiver.delay_seconds)
            with receiver.lock:
                return receiver.fail_with.pop(0) if receiver.fail_with else 200

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {receiver.token}":
                return True
            self._api(200, {"ok": False, "error": "invalid_auth"})  # Slack answers 200 with ok=false
            return False

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = urlsplit(self.path).path
            if path == "/api/chat.postMessage":
                self._post_message(body)
                return
            if path == "/api/conversations.history":
                self._history({**_form(urlsplit(self.path).query), **_form(body.decode())})
                return
            status = self._scripted_failure()
            if status == 200:
                try:
                    message = json.loads(body)
                except ValueError:
                    status = 400
                else:
                    with receiver.lock:
                        receiver.messages.append(message)
                        receiver.received_at.append(time.time())
                    receiver.accepted(message)
            reply = {200: b"ok", 400: b"invalid_payload", 429: b"rate_limited"}.get(status, b"internal_error")
            self._send(status, reply)

        def _post_message(self, body: bytes) -> None:
            if not self._authorized():
                return
            status = self._scripted_failure()
            if status != 200:
                self._api(status, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"})
                return
            message = json.loads(body)
            if not message.get("channel"):
                self._api(200, {"ok": False, "error": "channel_not_found"})
                return
            with receiver.lock:
                message["ts"] = receiver.next_ts()
                receiver.messages.append(message)
                receiver.received_at.append(time.time())
            receiver.accepted(message)
            self._api(200, {"ok": True, "channel": message["channel"], "ts": message["ts"], "message": message})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/api/conversations.history":
                self._api(404, {"ok": False, "error": "unknown_method"})
                return
            self._history(_form(parts.query))

        def _history(self, query: dict[str, str]) -> None:
            if not self._authorized():
                return
            oldest = float(query.get("oldest", "0"))
            with_metadata = query.get("include_all_metadata") in ("1", "true", "True")
            with receiver.lock:
                receiver.history_calls += 1
                found = [
                    {
                        "type": "message",
                        "ts": m["ts"],
                        "text": m.get("text", ""),
                        **({"metadata": m["metadata"]} if with_metadata and "metadata" in m else {}),
                    }
                    for m in reversed(receiver.messages)
                    if m.get("channel") == query.get("channel") and float(m.get("ts", 0)) >= oldest
                ]
            self._api(200, {"ok": True, "messages": found, "has_more": False})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def slack_receiver() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    with serving(_handler(receiver)) as base:
        receiver.url = f"{base}/services/T000/B000/XXXX"
        receiver.api_url = f"{base}/api/"
        yield receiver
