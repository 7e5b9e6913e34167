"""`reputation serve` against signed (and forged) Slack requests, on a real store."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from alerts.slack.server import make_server
from reputation.alerting import load_alerting
from reputation.pipeline import run_cycle
from reputation.store import Store
from reputation.store.schema import incidents, interactions
from tests.fakes.slack import SlackReceiver, slack_receiver
from tests.integration.test_pipeline import scenario_config
from tests.scenario import write_story

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def served(store: Store, tmp_path: Path) -> Iterator[tuple[str, Store, int, SlackReceiver]]:
    config = scenario_config(write_story(tmp_path / "story.jsonl"))
    run_cycle(store, config, load_alerting(), env={})
    with store.engine.connect() as connection:
        incident_id = connection.scalar(select(incidents.c.id).where(incidents.c.rule == "detractor"))
    with slack_receiver() as receiver:
        server = make_server(store, SECRET, port=0, response_url_prefixes=("http://127.0.0.1:",))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/slack/actions", store, int(incident_id), receiver
        finally:
            server.shutdown()
            server.server_close()


def payload(incident_id: int, action: str, receiver: SlackReceiver, **extra: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "priya"},
        "response_url": receiver.url,
        "message": {"blocks": [{"type": "header", "block_id": "h", "text": {"type": "plain_text", "text": "x"}}]},
        "actions": [{"action_id": action, "block_id": f"incident-actions:{incident_id}", **extra}],
    }


def post(
    url: str, data: dict[str, Any], *, timestamp: int | None = None, secret: str = SECRET
) -> tuple[int, dict[str, Any]]:
    body = urlencode({"payload": json.dumps(data)}).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return send(url, body, {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})


def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def updates(receiver: SlackReceiver, count: int) -> list[dict[str, Any]]:
    """The message updates, once `count` have arrived: the server answers Slack first, then updates."""
    deadline = time.monotonic() + 10
    while len(receiver.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return receiver.messages


def incident(store: Store, incident_id: int) -> Any:
    with store.engine.connect() as connection:
        return connection.execute(select(incidents).where(incidents.c.id == incident_id)).one()


def test_acknowledge_updates_incident_log_and_message(served: tuple[str, Store, int, SlackReceiver]) -> None:
    url, store, incident_id, receiver = served
    status, body = post(url, payload(incident_id, "acknowledge", receiver))
    assert (status, body["status"]) == (200, "acknowledged")
    row = incident(store, incident_id)
    assert row.status == "acknowledged" and row.acknowledged_at is not None
    update = updates(receiver, 1)[-1]
    assert update["replace_original"] is True
    status_line = next(b for b in update["blocks"] if b.get("block_id") == "status")["elements"][0]["text"]
    assert status_line.startswith("Acknowledged by <@U024BE7LH> at ")
    assert any(b["block_id"] == f"incident-actions:{incident_id}" for b in update["blocks"])  # still open: buttons stay

    status, _ = post(url, payload(incident_id, "assign", receiver, selected_user="W0ABC123"))
    assert status == 200 and incident(store, incident_id).assignee == "W0ABC123"
    status, body = post(url, payload(incident_id, "resolve", receiver))
    assert (status, body["status"]) == (200, "resolved")
    final = updates(receiver, 3)[-1]["blocks"]
    assert not any(str(b.get("block_id", "")).startswith("incident-actions") for b in final)
    with store.engine.connect() as connection:
        log = connection.execute(
            select(interactions.c.action, interactions.c.user_id).order_by(interactions.c.id)
        ).all()
    assert [tuple(row) for row in log] == [
        ("acknowledge", "U024BE7LH"),
        ("assign", "U024BE7LH"),
        ("resolve", "U024BE7LH"),
    ]


def test_forged_stale_and_replayed_requests_are_rejected(served: tuple[str, Store, int, SlackReceiver]) -> None:
    url, store, incident_id, receiver = served
    data = payload(incident_id, "false_positive", receiver)
    assert post(url, data, secret="not-the-secret")[0] == 401
    assert post(url, data, timestamp=int(time.time()) - 600)[0] == 401
    assert send(url, urlencode({"payload": json.dumps(data)}).encode(), {})[0] == 401
    assert incident(store, incident_id).status == "open"

    body = urlencode({"payload": json.dumps(data)}).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body) or "",
    }
    assert send(url, body, headers)[0] == 200
    replay_status, replay_body = send(url, body, headers)
    assert replay_status == 409 and "replay" in replay_body["error"]
    with store.engine.connect() as connection:
        assert len(connection.execute(select(interactions)).all()) == 1


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda p: p["actions"][0].update(action_id="delete_everything"), 400),
        (lambda p: p["actions"][0].update(block_id="incident-actions:999999"), 404),
        (lambda p: p["user"].update(id="<!channel>"), 400),
        (lambda p: p["actions"][0].update(action_id="assign"), 400),  # no selected user
        (lambda p: p.update(type="view_submission"), 400),
    ],
)
def test_malformed_actions_are_refused(served: tuple[str, Store, int, SlackReceiver], mutate: Any, status: int) -> None:
    url, store, incident_id, receiver = served
    data = payload(incident_id, "acknowledge", receiver)
    mutate(data)
    assert post(url, data)[0] == status
    assert incident(store, incident_id).status == "open"


def test_response_url_outside_slack_is_not_called(served: tuple[str, Store, int, SlackReceiver]) -> None:
    url, store, incident_id, receiver = served
    data = payload(incident_id, "acknowledge", receiver)
    data["response_url"] = "http://169.254.169.254/latest/meta-data"
    assert post(url, data)[0] == 200
    assert incident(store, incident_id).status == "acknowledged"
    time.sleep(0.3)  # the update, had it been sent, would have arrived by now
    assert receiver.messages == []
