"""Unacknowledged incidents are re-announced once, after their SLA, to the escalation route too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.outbox import deliver_pending
from reputation.alerting import load_alerting
from reputation.pipeline import run_cycle, utcnow
from reputation.store import Store
from reputation.store.schema import incidents
from tests.conftest import make_config
from tests.fakes.slack import slack_receiver
from tests.scenario import write_story


def test_follow_up_after_sla_goes_to_escalation_route_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(write_story(tmp_path / "s.jsonl"))}}],
        alerts={
            "rules": {
                "detractor": {"min_reach": 20000, "min_cascade": 10, "severity": "high"},
                "repeat_complainer": {"enabled": False},
            },
            "routes": [
                {"name": "default", "webhook_env": "SLACK_WEBHOOK_URL"},
                {"name": "managers", "webhook_env": "SLACK_WEBHOOK_URL_MANAGERS", "min_severity": "critical"},
            ],
            "escalation_route": "managers",
            "sla_minutes": {"critical": 10, "high": 30},
        },
    )
    engine = load_alerting()
    with slack_receiver() as team, slack_receiver() as managers:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", team.url)
        monkeypatch.setenv("SLACK_WEBHOOK_URL_MANAGERS", managers.url)
        run_cycle(store, config, engine)
        assert len(team.messages) == 1 and managers.messages == []

        # Within the SLA nothing happens; after it, one follow-up to both routes.
        soon = utcnow() + timedelta(minutes=20)
        assert engine.detect(store, config, soon) == []
        late = utcnow() + timedelta(minutes=31)
        follow_ups = engine.detect(store, config, late)
        assert [a.title.startswith("Nobody has acknowledged this for 30 min") for a in follow_ups] == [True]
        deliver_pending(store, config, late)
        assert len(team.messages) == 2 and len(managers.messages) == 1
        assert "Nobody has acknowledged" in managers.messages[0]["text"]

        # Never twice, and not for an acknowledged incident.
        assert engine.detect(store, config, late + timedelta(hours=5)) == []
        deliver_pending(store, config, late + timedelta(hours=5))
        assert len(team.messages) == 2 and len(managers.messages) == 1
    with store.engine.connect() as connection:
        assert connection.scalar(select(incidents.c.followed_up_at)) is not None


def test_sla_config_errors_name_the_key() -> None:
    from reputation.errors import ConfigError

    with pytest.raises(ConfigError, match="escalation_route 'boss' is not one of the routes"):
        make_config(alerts={"escalation_route": "boss"})
    with pytest.raises(ConfigError, match="severity must be one of"):
        make_config(alerts={"sla_minutes": {"urgent": 5}})
