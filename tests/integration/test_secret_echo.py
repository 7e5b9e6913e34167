"""An endpoint that echoes the webhook URL's secret path in its error body leaks it nowhere."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from alerts.outbox import deliver_pending
from alerts.slack.webhook import send_webhook
from reputation.pipeline import utcnow
from reputation.store import Store
from reputation.store.schema import outbox, outbox_routes
from tests.conftest import make_config
from tests.integration.test_rate_limits import enqueue

TOKEN = "zQ8secretWebhookPath77"


class Echo(BaseHTTPRequestHandler):
    """Answers like a misconfigured proxy: the whole URL back in the error body."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = f"no route for http://{self.headers['Host']}{self.path} ({self.path})".encode()
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(params=[404, 503])
def webhook(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.status = request.param  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0AAAA/B0BBBB/{TOKEN}"
    finally:
        server.shutdown()
        server.server_close()


def test_send_webhook_scrubs_the_echo(webhook: str) -> None:
    result = send_webhook(webhook, {"text": "hi"})
    assert not result.ok and result.error and "[redacted]" in result.error
    assert TOKEN not in result.error


def test_outbox_rows_routes_and_logs_hold_no_secret(
    store: Store, webhook: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook)
    enqueue(store, 3, utcnow())
    with caplog.at_level(logging.DEBUG):
        assert deliver_pending(store, make_config(), utcnow()) == 0
    with store.engine.connect() as connection:
        stored = [
            *connection.scalars(select(outbox.c.last_error)),
            *connection.scalars(select(outbox_routes.c.last_error)),
        ]
    assert any(stored) and not any(TOKEN in (text or "") for text in stored)
    assert "not delivered" in caplog.text and TOKEN not in caplog.text
