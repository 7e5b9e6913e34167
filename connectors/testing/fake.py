"""A platform's API on 127.0.0.1 for connector tests: `FakePlatform`, its requests and replies.

A platform's fake subclasses `FakePlatform` with the platform's protocol and a
dataset that grows between runs; `fail` scripts the faults the contract suite
(`connectors.testing.contract`) checks the connector against.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BRAND = "Voltmart"
FAULTS = ("rate_limit", "server_error", "unauthorized", "garbage", "disconnect", "repeat_page")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/html; charset=utf-8")
        return json.dumps(self.body).encode(), "application/json; charset=UTF-8"


class FakePlatform:
    """A platform's API on 127.0.0.1, with a dataset that grows between runs and scriptable faults.

    Subclasses implement the protocol (`respond`, `fault_reply`, `is_data_request`)
    and the dataset (`publish`, `unpublish`, `env`). Every item `add` creates
    mentions `BRAND`, so brand rules keep it. Faults apply to data requests (not
    to token requests) in the order they were scripted with `fail`:

        rate_limit    429 with the platform's rate-limit headers (`retry_after_seconds`)
        server_error  a 5xx with the platform's error body
        unauthorized  401 with the platform's error body
        garbage       200 with an HTML body
        disconnect    the connection is closed without an answer
        repeat_page   the page's next-page token points at the page itself
    """

    page_size: int = 3
    retry_after_seconds: int = 7

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Request] = []
        self.published: list[str] = []
        self.lock = threading.RLock()
        self._script: list[str | None] = []
        self._played: list[Reply] = []
        self._after_played: Reply | None = None
        self._server: ThreadingHTTPServer | None = None

    # The protocol and the dataset: what a platform's fake provides.

    @property
    def env(self) -> dict[str, str]:
        """Credentials this fake accepts, as the connector reads them from the environment."""
        raise NotImplementedError

    def publish(self, count: int) -> list[str]:
        """Add `count` new items (newer than all others); returns their mentions' native ids."""
        raise NotImplementedError

    def unpublish(self, count: int) -> list[str]:
        """Remove the `count` newest items; returns their mentions' native ids."""
        raise NotImplementedError

    def is_data_request(self, request: Request) -> bool:
        raise NotImplementedError

    def respond(self, request: Request, fault: str | None) -> Reply:
        """The answer to `request`; `fault` is None or "repeat_page"."""
        raise NotImplementedError

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "garbage":
            return Reply(200, "<html><body><h1>upstream connect error</h1></body></html>")
        raise NotImplementedError(fault)

    # The dataset, scripting and bookkeeping.

    def add(self, count: int = 1) -> list[str]:
        with self.lock:
            ids = self.publish(count)
            self.published.extend(ids)
            return ids

    def forget_newest(self, count: int) -> None:
        with self.lock:
            gone = set(self.unpublish(count))
            self.published = [native_id for native_id in self.published if native_id not in gone]

    def fail(self, fault: str, *, times: int = 1, after: int = 0) -> None:
        """Let `after` data requests succeed, then answer `times` of them with `fault`."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS}")
        with self.lock:
            self._script.extend([None] * after + [fault] * times)

    def play(self, *recorded: Reply, then: Reply | None = None) -> None:
        """Answer the next data requests with `recorded` (responses the platform itself gave), in order.

        Once they are spent, data requests get `then` (the platform's empty page), or the
        fake's own answer when `then` is None. Faults scripted with `fail` come first.
        """
        with self.lock:
            self._played.extend(recorded)
            self._after_played = then

    def clear_faults(self) -> None:
        with self.lock:
            self._script.clear()

    @property
    def data_requests(self) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if self.is_data_request(request)]

    def _dispatch(self, request: Request) -> Reply | None:
        with self.lock:
            self.requests.append(request)
            fault = self._script.pop(0) if self.is_data_request(request) and self._script else None
            if fault == "disconnect":
                return None
            if fault is not None and fault != "repeat_page":
                return self.fault_reply(fault, request)
            if self.is_data_request(request) and self._played:
                return self._played.pop(0)
            if self.is_data_request(request) and self._after_played is not None:
                return self._after_played
            return self.respond(request, fault)

    def __enter__(self) -> FakePlatform:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), request_handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def request_handler(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    """The HTTP handler that hands `fake` every request; a fake that needs more of the raw request wraps it."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body)
            reply = fake._dispatch(request)
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload, content_type = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            for name, value in reply.headers.items():
                if name.lower() != "content-type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
