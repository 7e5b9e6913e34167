"""Several real connectors in one cycle: a platform that is down or answers garbage stops only itself,
and its failure shows in the cycle's report, `reputation doctor` and the digest's collection health."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.digest import build_digests
from reputation.alerting import load_alerting
from reputation.cli.doctor import run_checks
from reputation.config import load_config
from reputation.pipeline import run_cycle
from reputation.store import Store
from tests.fakes.hackernews import FakeHackerNews
from tests.fakes.rss import FakeFeeds

FEED = "/blog/feed.atom"


def test_one_broken_platform_does_not_stop_the_others_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeHackerNews() as down:
        down_url = down.url
    # `down` has stopped: its port refuses connections. Garbage comes from the live Hacker News fake.
    with FakeFeeds() as feeds, FakeHackerNews() as hackernews:
        feeds.add(4)
        hackernews.add(3)
        hackernews.fail("garbage", times=10)
        config_path = tmp_path / "reputation.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "database_url": f"sqlite:///{tmp_path / 'r.db'}",
                    "brands": [{"name": "Voltmart"}],
                    "sources": [
                        {"name": "news", "type": "hackernews", "query": "voltmart", "base_url": hackernews.url},
                        {
                            "name": "down",
                            "type": "hackernews",
                            "query": "voltmart",
                            "base_url": down_url,
                            "options": {"retry": {"max_attempts": 1}},  # no backoff sleeps in a test
                        },
                        {"name": "blog", "type": "rss", "base_url": feeds.url, "options": {"feeds": [FEED]}},
                    ],
                    "alerts": {"routes": []},
                }
            )
        )
        monkeypatch.delenv("REPUTATION_DATABASE_URL", raising=False)
        config = load_config(config_path)
        store = Store.open(config.resolved_database_url())
        try:
            report = run_cycle(store, config, load_alerting(), env={})
            runs = {collected.run.source: collected.run for collected in report.collected}
            assert runs["blog"].error is None and runs["blog"].stored == 4
            assert runs["news"].error is not None and "BadResponse" in runs["news"].error
            assert runs["down"].error is not None and "Transient" in runs["down"].error
            (digest,) = build_digests(store, config, day=None, brand="Voltmart")
        finally:
            store.close()
    health = {line.source: line for line in digest.health}
    assert (health["blog"].failed, health["blog"].stored) == (0, 4)
    assert health["news"].failed == 1 and "BadResponse" in (health["news"].last_error or "")
    assert health["down"].failed == 1 and "did not answer" in (health["down"].last_error or "")
    checks = {check.name: check for check in run_checks(config_path)}
    assert checks["source blog"].ok
    assert not checks["source news"].ok and "failed: BadResponse" in checks["source news"].detail
    assert not checks["source down"].ok and "last run at" in checks["source down"].detail
