"""A local stand-in for Zendesk's Tickets API on 127.0.0.1.

Serves what the route uses, as Zendesk documents it: GET /api/v2/tickets.json
(with `external_id`), POST /api/v2/tickets.json, PUT /api/v2/tickets/{id}.json
(a comment, a priority), GET /api/v2/tickets/{id}/comments.json (paged by
`next_page`). Basic auth with `{email}/token:{token}`, 401 {"error": "Couldn't
authenticate you"} otherwise; 429 with Retry-After when scripted; `drop_next`
makes the server do the work and then close the connection without answering,
like a process killed after Zendesk accepted the request.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.serving import serving

EMAIL = "agent@voltmart.example"
TOKEN = "zd-test-token-0000"
COMMENTS_PER_PAGE = 2


@dataclass
class FakeZendesk:
    url: str = ""
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    rate_limit_next: int = 0
    retry_after_seconds: int = 7
    drop_next: int = 0  # requests that change something: done, then the connection is closed unanswered
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def solve(self, ticket_id: int) -> None:
        with self.lock:
            self.tickets[ticket_id]["status"] = "solved"


def _handler(fake: FakeZendesk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            expected = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {expected}":
                return True
            self._json(401, {"error": "Couldn't authenticate you"})
            return False

        def _limited(self) -> bool:
            with fake.lock:
                if fake.rate_limit_next <= 0:
                    return False
                fake.rate_limit_next -= 1
            self._json(429, {"error": "TooManyRequests"}, {"Retry-After": str(fake.retry_after_seconds)})
            return True

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length) or b"{}")
            return data if isinstance(data, dict) else {}

        def _answer_or_drop(self, status: int, body: dict[str, Any]) -> None:
            with fake.lock:
                drop = fake.drop_next > 0
                fake.drop_next -= drop
            if drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._json(status, body)

        def _start(self) -> tuple[str, dict[str, list[str]]] | None:
            parts = urlsplit(self.path)
            fake.requests.append((self.command, parts.path))
            if not self._authorized() or self._limited():
                return None
            return parts.path, parse_qs(parts.query)

        def do_GET(self) -> None:
            started = self._start()
            if started is None:
                return
            path, query = started
            if path == "/api/v2/tickets.json":
                wanted = query.get("external_id", [None])[0]
                with fake.lock:
                    found = [t for t in fake.tickets.values() if wanted is None or t["external_id"] == wanted]
                self._json(200, {"tickets": found, "next_page": None, "count": len(found)})
                return
            parts = path.strip("/").split("/")
            if len(parts) == 5 and parts[4] == "comments.json" and parts[3].isdigit():
                ticket_id = int(parts[3])
                if ticket_id not in fake.tickets:
                    self._json(404, {"error": "RecordNotFound", "description": "Not found"})
                    return
                page = int(query.get("page", ["1"])[0])
                comments = fake.comments[ticket_id]
                chunk = comments[(page - 1) * COMMENTS_PER_PAGE : page * COMMENTS_PER_PAGE]
                following = f"{fake.url}{path}?page={page + 1}" if page * COMMENTS_PER_PAGE < len(comments) else None
                self._json(200, {"comments": chunk, "next_page": following, "count": len(comments)})
                return
            self._json(404, {"error": "InvalidEndpoint"})

        def do_POST(self) -> None:
            started = self._start()
            if started is None:
                return
            if started[0] != "/api/v2/tickets.json":
                self._json(404, {"error": "InvalidEndpoint"})
                return
            ticket = self._body().get("ticket") or {}
            comment = ticket.get("comment") or {}
            if not comment.get("body"):
                self._json(
                    422,
                    {"error": "RecordInvalid", "details": {"base": [{"description": "Description: cannot be blank"}]}},
                )
                return
            with fake.lock:
                ticket_id = len(fake.tickets) + 1
                stored = {
                    "id": ticket_id,
                    "subject": ticket.get("subject"),
                    "status": "new",
                    "priority": ticket.get("priority"),
                    "external_id": ticket.get("external_id"),
                    "tags": ticket.get("tags", []),
                }
                fake.tickets[ticket_id] = stored
                fake.comments[ticket_id] = [
                    {"id": ticket_id * 1000, "body": comment["body"], "public": comment.get("public", True)}
                ]
            self._answer_or_drop(201, {"ticket": stored})

        def do_PUT(self) -> None:
            started = self._start()
            if started is None:
                return
            parts = started[0].strip("/").split("/")
            if len(parts) != 4 or not parts[3].endswith(".json") or not parts[3][:-5].isdigit():
                self._json(404, {"error": "InvalidEndpoint"})
                return
            ticket_id = int(parts[3][:-5])
            if ticket_id not in fake.tickets:
                self._json(404, {"error": "RecordNotFound", "description": "Not found"})
                return
            change = self._body().get("ticket") or {}
            with fake.lock:
                stored = fake.tickets[ticket_id]
                if change.get("priority"):
                    stored["priority"] = change["priority"]
                comment = change.get("comment") or {}
                if comment.get("body"):
                    comments = fake.comments[ticket_id]
                    comments.append(
                        {
                            "id": ticket_id * 1000 + len(comments),
                            "body": comment["body"],
                            "public": comment.get("public", True),
                        }
                    )
                    if stored["status"] == "new":
                        stored["status"] = "open"
            self._answer_or_drop(200, {"ticket": stored})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_zendesk() -> Iterator[FakeZendesk]:
    fake = FakeZendesk()
    with serving(_handler(fake)) as fake.url:
        yield fake
