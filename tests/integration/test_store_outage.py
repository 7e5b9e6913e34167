"""The database going away for a while: a clear error, nothing lost, nothing sent twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select

from reputation.alerting import load_alerting
from reputation.errors import StoreError
from reputation.pipeline import run_cycle
from reputation.store import Store
from reputation.store.schema import incidents, mentions
from tests.fakes.slack import slack_receiver
from tests.fakes.tcp_proxy import tcp_proxy
from tests.integration.test_pipeline import scenario_config
from tests.scenario import write_story


@pytest.mark.postgres
def test_cycle_during_outage_fails_clearly_and_the_next_one_catches_up(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    config = scenario_config(write_story(tmp_path / "s.jsonl"))
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy, slack_receiver() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        store = Store.open(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        proxy.cut()
        with pytest.raises(StoreError, match="database"):
            run_cycle(store, config, load_alerting())
        proxy.restore()
        report = run_cycle(store, config, load_alerting())
        assert report.collected[0].run.error is None and report.collected[0].run.stored == 20
        assert report.delivered == 2
        again = run_cycle(store, config, load_alerting())
        assert again.alerts == [] and len(slack.messages) == 2
        with store.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(mentions)) == 20
            assert connection.scalar(select(func.count()).select_from(incidents)) == 2
        store.close()
