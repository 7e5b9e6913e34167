"""A local stand-in for Slack's incoming-webhook endpoint, on 127.0.0.1.

It answers as Slack does: 200 with body "ok" on success, 429 with Retry-After
when rate limited, 500 on an outage. `fail_with` scripts the next responses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SlackReceiver:
    url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list, repr=False)
    retry_after_seconds: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _handler(receiver: SlackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                status = receiver.fail_with.pop(0) if receiver.fail_with else 200
                if status == 200:
                    try:
                        receiver.messages.append(json.loads(body))
                    except ValueError:
                        status = 400
            reply = {200: b"ok", 400: b"invalid_payload", 429: b"rate_limited"}.get(status, b"internal_error")
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", str(receiver.retry_after_seconds))
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def slack_receiver() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
