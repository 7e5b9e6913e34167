"""The whole cycle on real stores, with a local Slack receiver."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from reputation.alerting import load_alerting
from reputation.config import Config
from reputation.pipeline import run_cycle
from reputation.store import Store
from reputation.store.schema import cascades, enrichments, incidents, mentions, outbox
from tests.conftest import make_config
from tests.fakes.slack import slack_receiver
from tests.scenario import REPLIES, ROOT_ID, write_story


def scenario_config(path: Path) -> Config:
    return make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(path)}}],
        alerts={"rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
    )


def count(store: Store, table: object) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_cycle_stores_once_alerts_once_and_delivers_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = scenario_config(write_story(tmp_path / "story.jsonl"))
    alerting = load_alerting()
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        first = run_cycle(store, config, alerting)
        assert first.collected[0].run.error is None
        assert first.collected[0].off_topic == 1
        assert len(first.collected[0].problems) == 1
        stored = count(store, mentions)
        assert stored == 1 + REPLIES + 3 + 2
        rules = sorted(alert.rule for alert in first.alerts)
        assert rules == ["detractor", "repeat_complainer"]
        assert first.delivered == 2 and len(slack.messages) == 2

        # The same data again, even re-delivered from scratch, changes nothing.
        second = run_cycle(store, config, alerting)
        with store.transaction() as connection:
            connection.execute(mentions.update().values(pending=True))
        from reputation.store.mentions import reset_state

        reset_state(store, "story")
        third = run_cycle(store, config, alerting)
        assert second.alerts == [] and third.alerts == []
        assert count(store, mentions) == stored
        assert count(store, incidents) == 2
        assert len(slack.messages) == 2

    detractor = next(m for m in slack.messages if "maya_builds" in m["text"])
    assert "Detractor post by @maya_builds" in detractor["text"]
    with store.engine.connect() as connection:
        cascade = connection.execute(select(cascades).where(cascades.c.root_key == f"x:{ROOT_ID}")).one()
        assert cascade.size == REPLIES and cascade.depth == 1 and cascade.root_seen
        assert cascade.negative_share > 0.5
        assert connection.scalar(select(func.count()).select_from(enrichments)) == stored


def test_slack_outage_delays_but_never_loses_or_duplicates(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from alerts.outbox import deliver_pending
    from reputation.pipeline import utcnow

    config = scenario_config(write_story(tmp_path / "story.jsonl"))
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        slack.fail_with = [500, 429, 500]
        report = run_cycle(store, config, load_alerting())
        assert report.delivered == 0 and slack.messages == []
        later = utcnow()
        for _ in range(6):
            later += timedelta(minutes=5)
            deliver_pending(store, config, later)
        assert len(slack.messages) == 2
        with store.engine.connect() as connection:
            rows = connection.execute(select(outbox.c.sent_at, outbox.c.attempts)).all()
        assert all(row.sent_at is not None for row in rows)
        # Backoff is per route: after each refusal the route waits, so the three failures fall on
        # the first alert in line and the other goes through at its first attempt.
        assert sorted(row.attempts for row in rows) == [1, 4]


def test_a_failing_source_does_not_stop_the_others(store: Store, tmp_path: Path) -> None:
    good = write_story(tmp_path / "story.jsonl", bad_line=False)
    config = make_config(
        sources=[
            {"name": "broken", "type": "replay", "options": {"path": str(tmp_path / "missing.jsonl")}},
            {"name": "story", "type": "replay", "options": {"path": str(good)}},
        ]
    )
    report = run_cycle(store, config, load_alerting(), env={})
    broken, story = report.collected
    assert broken.run.error is not None and "missing.jsonl does not exist" in broken.run.error
    assert story.run.error is None and story.run.stored > 0


def test_children_arriving_before_their_parent_join_its_cascade(store: Store, tmp_path: Path) -> None:
    import json

    from reputation.models import Author, Kind
    from tests.factories import mention

    grandchild = mention("g", "@Voltmart me too", kind=Kind.REPLY, parent_id="c", minutes=20)
    child = mention(
        "c",
        "@Voltmart awful",
        kind=Kind.REPLY,
        parent_id="p",
        minutes=10,
        author=Author(id="c1", handle="c1", followers=5),
    )
    parent = mention("p", "@Voltmart lost my parcel", minutes=0)
    path = tmp_path / "late.jsonl"
    config = make_config(sources=[{"name": "late", "type": "replay", "options": {"path": str(path)}}])
    for item in (grandchild, child, parent):  # newest first, one per cycle
        with path.open("a") as handle:
            handle.write(json.dumps(item.to_json_dict()) + "\n")
        run_cycle(store, config, load_alerting(), env={})
    with store.engine.connect() as connection:
        keys = dict(connection.execute(select(enrichments.c.mention_key, enrichments.c.cascade_key)).all())
        rows = connection.execute(select(cascades.c.root_key, cascades.c.size, cascades.c.depth)).all()
    assert keys == {"x:g": "x:p", "x:c": "x:p", "x:p": "x:p"}
    assert [tuple(row) for row in rows] == [("x:p", 2, 2)]


def test_several_parked_threads_move_to_their_parents_cascades_in_one_cycle(store: Store, tmp_path: Path) -> None:
    import json

    from reputation.models import Kind
    from tests.factories import mention

    cycles = [
        # Two replies whose parents have not arrived: parked under x:c and x:s.
        [
            mention("g", "@Voltmart me too", kind=Kind.REPLY, parent_id="c", minutes=20),
            mention("r", "@Voltmart same here", kind=Kind.REPLY, parent_id="s", minutes=25),
        ],
        # Both parents arrive in one batch, each a reply itself: both parked threads move at once.
        [
            mention("c", "@Voltmart awful", kind=Kind.REPLY, parent_id="p", minutes=10),
            mention("s", "@Voltmart still nothing", kind=Kind.REPLY, parent_id="q", minutes=15),
        ],
        [mention("p", "@Voltmart lost my parcel", minutes=0), mention("q", "@Voltmart refund?", minutes=5)],
    ]
    path = tmp_path / "late.jsonl"
    config = make_config(sources=[{"name": "late", "type": "replay", "options": {"path": str(path)}}])
    for cycle in cycles:
        with path.open("a") as handle:
            handle.writelines(json.dumps(item.to_json_dict()) + "\n" for item in cycle)
        run_cycle(store, config, load_alerting(), env={})
    with store.engine.connect() as connection:
        keys = dict(connection.execute(select(enrichments.c.mention_key, enrichments.c.cascade_key)).all())
        rows = connection.execute(select(cascades.c.root_key, cascades.c.size).order_by(cascades.c.root_key)).all()
    assert keys == {"x:g": "x:p", "x:c": "x:p", "x:p": "x:p", "x:r": "x:q", "x:s": "x:q", "x:q": "x:q"}
    assert [tuple(row) for row in rows] == [("x:p", 2), ("x:q", 2)]
