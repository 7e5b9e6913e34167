"""One settings channel: the steps get their secrets as an argument, and a failure says whether to retry.

The DAGs hand the pipeline the values of their Airflow connections as `env`; nothing
is written to os.environ to carry them, so these tests keep os.environ free of every
secret and check that the alerts still go out and the process environment is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reputation import pipeline
from reputation.store import Store
from tests.conftest import make_config
from tests.fakes.slack import slack_receiver
from tests.fakes.x import FakeX
from tests.scenario import write_story


@pytest.fixture(autouse=True)
def no_secrets_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_WEBHOOK_URL", "X_BEARER_TOKEN", "REPUTATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def x_source(fake: FakeX) -> dict[str, object]:
    # One attempt: the scheduler, not the connector, decides about the next try here.
    return {
        "name": "x",
        "type": "x",
        "query": "voltmart",
        "base_url": fake.url,
        "options": {"retry": {"max_attempts": 1}},
    }


@pytest.mark.parametrize(
    ("fault", "retryable"), [("rate_limit", True), ("server_error", True), ("unauthorized", False)]
)
def test_a_failed_collect_says_whether_another_try_may_succeed(store: Store, fault: str, retryable: bool) -> None:
    with FakeX() as fake:
        fake.publish(3)
        fake.fail(fault)
        config = make_config(sources=[x_source(fake)])
        result = pipeline.collect(store, config, config.sources[0], fake.env)
    assert result.error is not None
    assert result.retryable is retryable
    assert fake.bearer_token not in result.error


def test_a_missing_replay_file_is_not_worth_retrying_and_a_good_source_has_no_error(
    store: Store, tmp_path: Path
) -> None:
    config = make_config(
        sources=[
            {"name": "broken", "type": "replay", "options": {"path": str(tmp_path / "missing.jsonl")}},
            {"name": "story", "type": "replay", "options": {"path": str(write_story(tmp_path / "s.jsonl"))}},
        ]
    )
    broken = pipeline.collect(store, config, config.source("broken"), {})
    story = pipeline.collect(store, config, config.source("story"), {})
    assert broken.error is not None and broken.retryable is False
    assert story.error is None and story.retryable is False and story.run.stored > 0


def test_the_steps_deliver_with_the_secrets_they_are_given_and_leave_the_environment_alone(
    store: Store, tmp_path: Path
) -> None:
    config = make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(write_story(tmp_path / "s.jsonl"))}}],
        alerts={"console": False, "rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
    )
    with slack_receiver() as slack:
        env = {"SLACK_WEBHOOK_URL": slack.url}
        assert pipeline.enabled_sources(config) == ["story"]
        assert pipeline.collect(store, config, config.source("story"), env).error is None
        assert pipeline.enrich(store, config).enriched > 0
        raised = pipeline.detect(store, config, env)
        delivered = pipeline.deliver(store, config, env)
        # A second detect and deliver over the same data sends nothing new.
        assert pipeline.detect(store, config, env) == []
        assert pipeline.deliver(store, config, env) == 0
    assert len(raised) >= 2 and delivered == len(raised) == len(slack.messages)
    # (Libraries may set their own variables on import; the point is that no secret went there.)
    assert [name for name, value in os.environ.items() if slack.url in value] == []


def test_without_the_secret_no_alert_is_queued(store: Store, tmp_path: Path) -> None:
    config = make_config(
        sources=[{"name": "story", "type": "replay", "options": {"path": str(write_story(tmp_path / "s.jsonl"))}}],
        alerts={"console": False, "rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
    )
    pipeline.collect(store, config, config.source("story"), {})
    pipeline.enrich(store, config)
    assert len(pipeline.detect(store, config, {})) >= 2  # the incidents open ...
    assert pipeline.deliver(store, config, {}) == 0  # ... but no route has its webhook here


def test_the_database_url_comes_from_the_settings_given(tmp_path: Path) -> None:
    config = make_config(database_url="sqlite:///from-the-file.db")
    assert config.resolved_database_url({}) == "sqlite:///from-the-file.db"
    given = f"sqlite:///{tmp_path / 'given.db'}"
    assert config.resolved_database_url({"REPUTATION_DATABASE_URL": given}) == given


def test_the_digest_step_writes_the_day_before_the_run_in_the_brands_zone(store: Store, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    config = make_config(digest={"output_dir": str(tmp_path / "digests")})
    page = pipeline.digest(store, config, "Voltmart", datetime(2026, 11, 2, 0, 30, tzinfo=UTC), {})
    assert page.name == "digest-voltmart-2026-11-01.html" and page.is_file()
