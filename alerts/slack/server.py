"""`reputation serve`: the HTTP endpoint Slack calls when someone presses a button.

POST /slack/actions   Slack interactivity (block_actions)
GET  /healthz         liveness for a load balancer
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alerts.errors import RequestRejected
from alerts.slack.interactivity import SLACK_RESPONSE_URL_PREFIX, apply, parse, post_update, updated_message, verify
from reputation.store import Store

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000


def make_server(
    store: Store,
    signing_secret: str,
    host: str = "127.0.0.1",
    port: int = 3000,
    response_url_prefixes: Sequence[str] = (SLACK_RESPONSE_URL_PREFIX,),
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
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
            if self.path != "/slack/actions":
                self._reply(404, {"ok": False, "error": "not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY_BYTES:
                self._reply(413 if length else 400, {"ok": False, "error": "body missing or too large"})
                return
            body = self.rfile.read(length)
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
            updated = post_update(
                interaction.response_url, updated_message(interaction, incident, now), response_url_prefixes
            )
            log.info(
                "incident %s %s by %s (message updated: %s)",
                incident["id"],
                interaction.action,
                interaction.user_id,
                updated,
            )

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return ThreadingHTTPServer((host, port), Handler)
