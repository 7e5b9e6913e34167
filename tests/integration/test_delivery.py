"""Outbox delivery: crashes, concurrent workers and the Web API's exactly-once path."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alerts.outbox import LEASE, deliver_pending, send_row
from alerts.slack.webhook import SendResult
from reputation.alerting import load_alerting
from reputation.config import Config, Route
from reputation.pipeline import run_cycle, utcnow
from reputation.store import Store
from reputation.store.schema import outbox
from tests.conftest import make_config
from tests.factories import queue_alerts
from tests.fakes.slack import SlackReceiver, slack_receiver
from tests.scenario import write_story

CHANNEL = "C0ALERTS01"


def api_config(story: Path, receiver: SlackReceiver) -> Config:
    return make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(story)}}],
        alerts={
            "rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}},
            "routes": [
                {"name": "team", "token_env": "SLACK_BOT_TOKEN", "channel": CHANNEL, "api_base_url": receiver.api_url}
            ],
        },
    )


class Crash(BaseException):
    """Stands in for the process dying: nothing after it runs, no handler catches it."""


def test_web_api_route_posts_with_metadata(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        report = run_cycle(store, api_config(write_story(tmp_path / "s.jsonl"), slack), load_alerting())
        assert report.delivered == 2
        assert {m["channel"] for m in slack.messages} == {CHANNEL}
        assert sorted(m["metadata"]["event_payload"]["outbox_id"] for m in slack.messages) == [1, 2]


def test_crash_after_slack_accepted_does_not_send_twice(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        config = api_config(write_story(tmp_path / "s.jsonl"), slack)
        engine = load_alerting()
        run_cycle_without_delivery(store, config)

        def send_then_die(route: Route, row: Any, env: Any) -> SendResult:
            send_row(route, row, env)
            raise Crash  # Slack has the message; the row is not marked sent

        now = utcnow()
        with pytest.raises(Crash):
            deliver_pending(store, config, now, send=send_then_die)
        assert len(slack.messages) == 1
        # Another worker, after the dead one's lease ran out.
        delivered = engine.deliver(store, config, now + LEASE + timedelta(seconds=1))
        assert delivered == 2
        assert len(slack.messages) == 2  # the first was found in the channel, not posted again
        assert Counter(m["metadata"]["event_payload"]["outbox_id"] for m in slack.messages) == Counter({1: 1, 2: 1})


def run_cycle_without_delivery(store: Store, config: Config) -> None:
    from reputation.enrichment import Enricher
    from reputation.pipeline import collect

    for source in config.sources:
        collect(store, config, source)
    Enricher(config).run(store, utcnow())
    load_alerting().detect(store, config, utcnow())


def test_crash_between_storing_and_sending_loses_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        config = make_config(
            sources=[{"name": "story", "type": "replay", "options": {"path": str(write_story(tmp_path / "s.jsonl"))}}],
            alerts={"rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
        )
        run_cycle_without_delivery(store, config)  # then the process "dies"
        assert slack.messages == []
        report = run_cycle(store, config, load_alerting())  # the next cycle, in a new process
        assert report.alerts == [] and report.delivered == 2 and len(slack.messages) == 2


def test_two_workers_send_each_alert_once(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = Store.open(database_url)
    now = utcnow()
    with setup.transaction() as connection:
        queue_alerts(connection, 40, now)
    config = make_config()
    with slack_receiver() as slack:
        slack.delay_seconds = 0.01
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        workers = [Store.open(database_url) for _ in range(2)]
        counts: list[int] = []
        threads = [threading.Thread(target=lambda s=s: counts.append(deliver_pending(s, config, now))) for s in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for worker in workers:
            worker.close()
    texts = Counter(message["text"] for message in slack.messages)
    assert len(texts) == 40 and set(texts.values()) == {1}
    assert sum(counts) == 40 and all(count > 0 for count in counts)  # both really worked
    with setup.engine.connect() as connection:
        assert all(row.sent_at is not None for row in connection.execute(select(outbox.c.sent_at)))
    setup.close()
