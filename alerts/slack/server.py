"""`reputation serve`: the HTTP endpoint Slack calls when someone presses a button.

POST /slack/actions   Slack interactivity (block_actions)
GET  /healthz         liveness for a load balancer

Every request gets an HTTP status, whatever it holds: 400 for what cannot be
read, 401 for what is not signed, 413 for what is too large, 503 when every
worker is busy, 500 (and a log line, not a traceback) for our own faults.
Connections are served by a bounded pool with a socket timeout, so slow or
half-sent requests cannot pile up threads without limit.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from alerts.errors import RequestRejected
from alerts.slack.interactivity import SLACK_RESPONSE_URL_PREFIX, apply, parse, post_update, updated_message, verify
from reputation.store import Store

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000
SOCKET_TIMEOUT_SECONDS = 10.0
WORKERS = 16
QUEUED = 48  # accepted connections that may wait for a worker; past that, 503 at once
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"


class BoundedHTTPServer(HTTPServer):
    """HTTPServer with a fixed pool of workers and a cap on connections waiting for one."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="serve")
        self._slots = threading.BoundedSemaphore(WORKERS + QUEUED)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        self._pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - one bad connection must not end the worker
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        try:
            request.settimeout(1.0)
            request.sendall(_BUSY)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print a traceback to stderr; a dropped or timed-out client is not news.
        log.debug("connection from %s ended early", client_address)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _content_length(value: str | None) -> int | None:
    """The declared body size, or None when it is not a plain non-negative number."""
    text = (value or "0").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(text)


def make_server(
    store: Store,
    signing_secret: str,
    host: str = "127.0.0.1",
    port: int = 3000,
    response_url_prefixes: Sequence[str] = (SLACK_RESPONSE_URL_PREFIX,),
) -> BoundedHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS  # a half-sent request frees its worker after this

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._reply(200, {"ok": True})
            else:
                self._reply(404, {"ok": False, "error": "not found"})

        def do_POST(self) -> None:
            try:
                self._post()
            except (TimeoutError, ConnectionError):
                self.close_connection = True  # the client went away or stalled; nobody to answer
            except Exception as error:  # noqa: BLE001 - a fault of ours still gets a status, not a traceback
                log.error("request failed: %s", type(error).__name__)
                self._reply(500, {"ok": False, "error": "internal error"})

        def _post(self) -> None:
            if self.path != "/slack/actions":
                self._reply(404, {"ok": False, "error": "not found"})
                return
            length = _content_length(self.headers.get("Content-Length"))
            if length is None or length == 0:
                self.close_connection = True  # the body's end is unknown: this connection cannot go on
                self._reply(400, {"ok": False, "error": "Content-Length missing or not a number"})
                return
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                self._reply(413, {"ok": False, "error": f"body over {MAX_BODY_BYTES} bytes"})
                return
            body = self.rfile.read(length)
            if len(body) < length:
                self.close_connection = True
                self._reply(400, {"ok": False, "error": "body shorter than its Content-Length"})
                return
            try:
                signature = verify(body, dict(self.headers.items()), signing_secret)
                interaction = parse(body)
                now = datetime.now(UTC)
                incident = apply(store, interaction, signature, now)
            except RequestRejected as rejected:
                log.warning("rejected Slack request: %s", rejected.reason)
                self._reply(rejected.status, {"ok": False, "error": rejected.reason})
                return
            self._reply(200, {"ok": True, "incident": incident["id"], "status": incident["status"]})
            try:
                updated = post_update(
                    interaction.response_url, updated_message(interaction, incident, now), response_url_prefixes
                )
            except Exception as error:  # noqa: BLE001 - the action is recorded; only the message edit failed
                log.warning("incident %s: message not updated: %s", incident["id"], type(error).__name__)
                updated = False
            log.info(
                "incident %s %s by %s (message updated: %s)",
                incident["id"],
                interaction.action,
                interaction.user_id,
                updated,
            )

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return BoundedHTTPServer((host, port), Handler)
