"""One story, one incident: re-announced only when it really escalates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reputation.alerting import load_alerting
from reputation.models import Author, Kind
from reputation.pipeline import run_cycle
from reputation.store import Store
from reputation.store.schema import incidents
from tests.conftest import make_config
from tests.factories import mention
from tests.fakes.slack import slack_receiver
from tests.scenario import REPLIES, ROOT_ID, write_story


def append_replies(path: Path, count: int, start: int, followers: int = 200, text: str = "Awful, Voltmart.") -> None:
    now = datetime.now(UTC)
    with path.open("a") as handle:
        for i in range(count):
            reply = mention(
                f"19000000000000009{start + i:03d}",
                text,
                kind=Kind.REPLY,
                parent_id=ROOT_ID,
                root_id=ROOT_ID,
                author=Author(id=f"late{start + i}", handle=f"late{start + i}", followers=followers),
                created_at=now - timedelta(minutes=count - i),
            )
            handle.write(json.dumps(reply.to_json_dict()) + "\n")


def test_reannounced_on_influencer_and_doubling_only(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = write_story(tmp_path / "s.jsonl", bad_line=False)
    config = make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(story)}}],
        alerts={
            "rules": {
                "detractor": {"min_reach": 20000, "min_cascade": 10, "min_predicted": 10_000},
                "repeat_complainer": {"enabled": False},
                "issue_spike": {"enabled": False},
            }
        },
    )
    engine = load_alerting()
    with slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        assert [a.escalation for a in run_cycle(store, config, engine).alerts] == [False]

        append_replies(story, 2, start=0)  # more of the same: no new announcement
        assert run_cycle(store, config, engine).alerts == []

        append_replies(story, 1, start=10, followers=150_000, text="This is disgraceful, Voltmart. Terrible.")
        influencer = run_cycle(store, config, engine).alerts
        assert [a.title.split(":")[0] for a in influencer] == [
            "Escalated (an account with 150,000 followers joined the criticism)"
        ]

        append_replies(story, REPLIES + 3, start=20)  # announced at 17 events, now 34: doubled
        doubled = run_cycle(store, config, engine).alerts
        assert len(doubled) == 1 and doubled[0].title.startswith("Escalated (grew from 17 to 34)")
        assert len(slack.messages) == 3
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(incidents)) == 1


def test_collection_gaps_failing_and_silent(store: Store, tmp_path: Path) -> None:
    from reputation.store.mentions import SourceRun, record_run

    config = make_config(
        sources=[
            {"name": "broken", "type": "replay", "options": {"path": str(tmp_path / "missing.jsonl")}},
            {"name": "quiet", "type": "replay", "silent_hours": 6, "options": {"path": str(tmp_path / "q.jsonl")}},
            {"name": "may-be-quiet", "type": "replay", "options": {"path": str(tmp_path / "q.jsonl")}},
        ],
        alerts={"rules": {"collection_gap": {"failed_runs": 2}}},
    )
    now = datetime.now(UTC)
    for hours_ago, source, stored, error in [
        (30, "quiet", 12, None),
        (20, "quiet", 0, None),
        (1, "quiet", 0, None),
        (30, "may-be-quiet", 5, None),
        (1, "may-be-quiet", 0, None),
        (2, "broken", 0, "InputError: replay file missing.jsonl does not exist"),
        (1, "broken", 0, "InputError: replay file missing.jsonl does not exist"),
    ]:
        started = now - timedelta(hours=hours_ago)
        record_run(store, SourceRun(source, started, stored, stored, error), started)
    titles = sorted(a.title for a in load_alerting().detect(store, config, now))
    assert titles[0] == "Source broken failed 2 runs in a row"
    assert titles[1].startswith("Source quiet brought nothing new for 6 h (since ")
    assert len(titles) == 2
