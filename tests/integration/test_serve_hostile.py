"""`reputation serve` answers every request with a status, whatever it holds (property-based)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.slack import server as server_module
from alerts.slack.server import make_server
from reputation.store import Store

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ANSWERS = {400, 401, 404, 409, 413}


@pytest.fixture
def address(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(server_module, "SOCKET_TIMEOUT_SECONDS", 1.0)
    server = make_server(store, SECRET, port=0, response_url_prefixes=("http://127.0.0.1:",))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def signed_headers(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def exchange(where: tuple[str, int], head: bytes, body: bytes = b"", timeout: float = 10.0) -> int:
    """Send raw bytes; the status of the answer (0: the connection closed without one)."""
    with socket.create_connection(where, timeout=timeout) as connection:
        connection.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                return 0
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def request(where: tuple[str, int], body: bytes, headers: dict[str, str], length: str | None = None) -> int:
    lines = [b"POST /slack/actions HTTP/1.1", b"Host: x", b"Connection: close"]
    lines.append(b"Content-Length: " + (length if length is not None else str(len(body))).encode())
    lines += [f"{key}: {value}".encode() for key, value in headers.items()]
    return exchange(where, b"\r\n".join(lines) + b"\r\n\r\n", body)


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(**override: Any) -> dict[str, Any]:
    data = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "priya"},
        "message": {"blocks": []},
        "actions": [{"action_id": "acknowledge", "block_id": "incident-actions:1"}],
    }
    data.update(override)
    return data


def on_incident(incident_id: str) -> dict[str, Any]:
    return block_actions(actions=[{"action_id": "acknowledge", "block_id": f"incident-actions:{incident_id}"}])


@pytest.mark.parametrize(
    ("length", "body", "signed", "status"),
    [
        ("abc", b"payload=x", False, 400),
        ("-5", b"payload=x", False, 400),
        ("99999999999999999999", b"", False, 400),
        (str(server_module.MAX_BODY_BYTES + 1), b"", False, 413),
        (None, b"payload=\xff\xfe\xfa", True, 400),  # not UTF-8, signature valid over the bytes
        (None, b"payload=\xff\xfe\xfa", False, 400),
        (None, form(block_actions()), False, 401),
        (None, urlencode({"payload": "[" * 10_000 + "]" * 10_000}).encode(), True, 400),
        (None, form(block_actions(user="U024BE7LH")), True, 400),
        (None, form(block_actions(message=["not", "an", "object"])), True, 400),
        (None, form(on_incident(str(10**30))), True, 400),
        (None, form(on_incident("\u00b2")), True, 400),  # a digit to str.isdigit, not to int()
        (None, form(block_actions()), True, 404),  # well-formed, no such incident
    ],
)  # fmt: skip
def test_the_issue_s_hostile_requests_get_a_status(
    address: tuple[str, int], length: str | None, body: bytes, signed: bool, status: int
) -> None:
    headers = signed_headers(body) if signed else {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=0"}
    assert request(address, body, headers, length) == status


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
        max_leaves=25,
    )
    | st.builds(
        block_actions,
        user=st.none() | st.text() | st.dictionaries(st.text(max_size=8), st.text(max_size=30)),
        message=st.none() | st.text() | st.lists(st.integers()),
        actions=st.lists(st.dictionaries(st.sampled_from(["action_id", "block_id"]), st.text(max_size=30))),
    ),
    raw=st.binary(max_size=200),
    use_raw=st.booleans(),
    signed=st.booleans(),
)
def test_any_body_signed_or_not_gets_a_status(
    address: tuple[str, int], payload: Any, raw: bytes, use_raw: bool, signed: bool
) -> None:
    body = raw if use_raw else form(payload)
    headers = signed_headers(body) if signed else {}
    assert request(address, body, headers) in ANSWERS


def test_half_sent_requests_hold_a_bounded_pool_and_time_out(address: tuple[str, int]) -> None:
    before = threading.active_count()
    stalled = []
    for _ in range(200):
        connection = socket.create_connection(address, timeout=10)
        connection.sendall(b"POST /slack/actions HTTP/1.1\r\nContent-Length: 100\r\n\r\npay")  # never finished
        stalled.append(connection)
    time.sleep(0.5)
    assert threading.active_count() - before <= server_module.WORKERS + 1
    # The ones past the pool and its queue are told at once; the rest end with the socket timeout.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if status == 200:
            break
        assert status == 503
        time.sleep(0.5)
    else:
        pytest.fail("the server never recovered from the stalled clients")
    for connection in stalled:
        connection.close()
