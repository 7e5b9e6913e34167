"""The connector conformance suite: one subclass gives a connector every generic check.

    from connectors.testing import ConnectorContract
    from connectors.myplatform import MyPlatformConnector
    from tests.fakes.myplatform import FakeMyPlatform

    class TestMyPlatform(ConnectorContract, connector=MyPlatformConnector, fake=FakeMyPlatform): ...

The connector is run, through its real client library, against `fake`: a
`FakePlatform` subclass (`connectors.testing.fake`) that serves the platform's
protocol on 127.0.0.1 and can be scripted to fail. The suite checks normalized
mentions, the cursor (JSON round trip, only new items on the next run, nothing
from a cursor ahead of the data), pagination (every page, no endless loop), the
error taxonomy (429, 5xx, dropped connections, 401, garbage), the framework's
retries, that credentials never leak into errors, that the connector is
registered under its platform's entry point and that `reputation fetch` prints
what it yields.

One check needs the real store: a run failing after its first page loses
nothing and stores nothing twice. The kit imports neither the pipeline nor the
store (a connector package depends on the records and the connector seam only),
so that check asks for a `collect_into_store` fixture (a `CollectIntoStore`)
that the project's tests define around `reputation.pipeline.collect`.

A connector under test is built as `connector(settings, retry=RetryPolicy(...))`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Protocol

import pytest

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient
from connectors.retry import RetryPolicy
from connectors.testing.fake import BRAND, FakePlatform
from reputation.connector import Connector, SourceSettings, load_connector
from reputation.models import FetchedBatch, Mention

CLI_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Collected:
    """What one `collect` through the real store reported: mentions stored, its error, mentions in the store."""

    stored: int
    error: str | None
    in_store: int


class CollectIntoStore(Protocol):
    """Runs one collect cycle of `settings` with `connector` into a store kept for the whole test."""

    def __call__(self, connector: Callable[..., Connector], settings: SourceSettings) -> Collected: ...


@dataclass
class Run:
    batches: list[FetchedBatch]
    error: ConnectorError | None = None

    @property
    def mentions(self) -> list[Mention]:
        return [mention for batch in self.batches for mention in batch.mentions]

    @property
    def ids(self) -> list[str]:
        return [mention.native_id for mention in self.mentions]

    @property
    def state(self) -> dict[str, Any] | None:
        return self.batches[-1].state if self.batches else None


class ConnectorContract:
    """The conformance suite. Subclass with `connector=` and `fake=` (and optionally `options=`, `query=`)."""

    connector: ClassVar[Callable[..., Connector]]
    fake: ClassVar[type[FakePlatform]]
    options: ClassVar[Mapping[str, Any]] = {}
    query: ClassVar[str] = BRAND.lower()
    items: ClassVar[int] = 7  # more than two pages of the fake's page size

    def __init_subclass__(
        cls,
        connector: Callable[..., Connector] | None = None,
        fake: type[FakePlatform] | None = None,
        options: Mapping[str, Any] | None = None,
        query: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if connector is not None:
            cls.connector = connector
        if fake is not None:
            cls.fake = fake
        if options is not None:
            cls.options = options
        if query is not None:
            cls.query = query

    # Fixtures and helpers.

    @pytest.fixture
    def platform(self) -> Iterator[FakePlatform]:
        with self.fake() as running:
            running.add(self.items)
            yield running

    @pytest.fixture
    def sleeps(self) -> list[float]:
        return []

    def policy(self, sleeps: list[float], max_attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(max_attempts=max_attempts, sleep=sleeps.append, jitter=lambda: 0.5)

    def build(
        self,
        platform: FakePlatform,
        retry: RetryPolicy | None = None,
        *,
        env: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> Connector:
        settings = self.settings(platform, env=env, limit=limit)
        return self.connector(settings, retry=retry or RetryPolicy(max_attempts=1, sleep=_no_sleep))

    def settings(
        self, platform: FakePlatform, *, env: Mapping[str, str] | None = None, limit: int | None = None
    ) -> SourceSettings:
        return SourceSettings(
            name="contract",
            query=self.query,
            base_url=platform.url,
            limit=limit,
            options=dict(self.options),
            env=dict(platform.env if env is None else env),
        )

    def run(self, connector: Connector, state: dict[str, Any] | None = None) -> Run:
        batches: list[FetchedBatch] = []
        try:
            for batch in connector.fetch(self.query, state):
                batches.append(batch)
        except ConnectorError as error:
            return Run(batches, error)
        return Run(batches)

    def fetch_all(self, platform: FakePlatform, state: dict[str, Any] | None = None) -> Run:
        result = self.run(self.build(platform), state)
        assert result.error is None, f"fetch failed: {result.error!r}"
        return result

    def needs_no_credentials(self, platform: FakePlatform) -> bool:
        """For a public API (no `credentials` declared): check that an empty environment is all it needs."""
        if self.connector.credentials:  # type: ignore[attr-defined]
            return False
        assert platform.env == {}, "a connector without credentials was given some by its fake"
        result = self.run(self.build(platform, env={}))
        assert result.error is None and len(result.ids) == self.items, result.error
        return True

    def assert_no_secret(self, text: str, platform: FakePlatform) -> None:
        for name, secret in platform.env.items():
            if len(secret) >= 4 and name.endswith(("SECRET", "TOKEN", "KEY", "PASSWORD")):
                assert secret not in text, f"{name} leaked into: {text}"

    # Normalized records.

    def test_mentions_are_normalized(self, platform: FakePlatform) -> None:
        result = self.fetch_all(platform)
        assert result.mentions, "no mentions fetched"
        for mention in result.mentions:
            assert mention.platform == self.connector.platform  # type: ignore[attr-defined]
            assert mention.created_at.utcoffset() == timedelta(0), "created_at must be UTC"
            assert mention.url.startswith("https://"), mention.url
            assert mention.text.strip() and mention.author.id
            json.dumps(mention.to_json_dict())
        keys = [mention.key for mention in result.mentions]
        assert len(keys) == len(set(keys)), "a key was yielded twice"
        again = self.fetch_all(platform)
        assert sorted(m.key for m in again.mentions) == sorted(keys), "keys are not stable across runs"

    def test_every_page_is_followed(self, platform: FakePlatform) -> None:
        result = self.fetch_all(platform)
        assert len(platform.data_requests) >= 3, "the fake's data should span several pages"
        assert sorted(result.ids) == sorted(platform.published)

    # The cursor.

    def test_state_round_trips_through_json_and_the_next_run_yields_only_new_items(
        self, platform: FakePlatform
    ) -> None:
        first = self.fetch_all(platform)
        assert first.state is not None
        state = json.loads(json.dumps(first.state))
        assert state == first.state, "state must survive a JSON round trip unchanged"
        assert self.fetch_all(platform, state).mentions == [], "nothing new was published"
        new = platform.add(2)
        second = self.fetch_all(platform, state)
        assert sorted(second.ids) == sorted(new)

    def test_a_state_from_the_future_yields_nothing(self, platform: FakePlatform) -> None:
        platform.add(3)
        ahead = self.fetch_all(platform).state
        platform.forget_newest(3)
        assert self.fetch_all(platform, json.loads(json.dumps(ahead))).mentions == []

    def test_a_limit_stops_early_and_the_next_run_resumes(self, platform: FakePlatform) -> None:
        limited = self.run(self.build(platform, limit=2))
        assert limited.error is None and 2 <= len(limited.ids) < self.items
        rest = self.fetch_all(platform, limited.state)
        assert sorted(limited.ids + rest.ids) == sorted(set(limited.ids + rest.ids))
        assert len(set(limited.ids + rest.ids)) == self.items

    def test_a_repeated_page_does_not_loop_forever(self, platform: FakePlatform) -> None:
        platform.fail("repeat_page", after=1, times=50)
        result = self.run(self.build(platform))
        assert isinstance(result.error, BadResponse), result.error
        assert len(platform.data_requests) <= 4
        keys = [mention.key for mention in result.mentions]
        assert len(keys) == len(set(keys))

    # The error taxonomy and the framework's retries.

    def test_429_is_rate_limited_with_the_advertised_wait(self, platform: FakePlatform) -> None:
        platform.fail("rate_limit", times=10)
        result = self.run(self.build(platform))
        assert isinstance(result.error, RateLimited), result.error
        assert result.error.retry_after_seconds is not None
        assert abs(result.error.retry_after_seconds - platform.retry_after_seconds) <= 2

    def test_429_is_retried_after_that_wait(self, platform: FakePlatform, sleeps: list[float]) -> None:
        platform.fail("rate_limit", after=1)
        result = self.run(self.build(platform, self.policy(sleeps)))
        assert result.error is None and len(result.ids) == self.items
        assert len(sleeps) == 1 and abs(sleeps[0] - platform.retry_after_seconds) <= 2

    @pytest.mark.parametrize("fault", ["server_error", "disconnect"])
    def test_outages_are_transient_and_retried(self, platform: FakePlatform, sleeps: list[float], fault: str) -> None:
        platform.fail(fault, times=10)
        failed = self.run(self.build(platform))
        assert isinstance(failed.error, Transient), failed.error
        platform.clear_faults()
        platform.fail(fault, times=2)
        recovered = self.run(self.build(platform, self.policy(sleeps)))
        assert recovered.error is None and len(recovered.ids) == self.items
        assert len(sleeps) == 2

    def test_401_fails_authentication_at_once(self, platform: FakePlatform, sleeps: list[float]) -> None:
        platform.fail("unauthorized", times=10)
        result = self.run(self.build(platform, self.policy(sleeps)))
        assert isinstance(result.error, AuthenticationFailed), result.error
        assert sleeps == [] and len(platform.data_requests) == 1
        self.assert_no_secret(str(result.error), platform)

    def test_rejected_credentials_fail_authentication_without_leaking_them(
        self, platform: FakePlatform, sleeps: list[float]
    ) -> None:
        if self.needs_no_credentials(platform):
            return
        wrong = {name: value + "-revoked" for name, value in platform.env.items()}
        result = self.run(self.build(platform, self.policy(sleeps), env=wrong))
        assert isinstance(result.error, AuthenticationFailed), result.error
        assert sleeps == []
        for secret in wrong.values():
            assert secret not in str(result.error)

    def test_missing_credentials_fail_authentication(self, platform: FakePlatform) -> None:
        if self.needs_no_credentials(platform):
            return
        with pytest.raises(AuthenticationFailed):  # at construction or on the first request
            connector = self.build(platform, env={})
            list(connector.fetch(self.query, None))

    def test_garbage_is_a_bad_response(self, platform: FakePlatform, sleeps: list[float]) -> None:
        platform.fail("garbage")
        result = self.run(self.build(platform, self.policy(sleeps)))
        assert isinstance(result.error, BadResponse), result.error
        assert sleeps == []

    # Through the real store: a failure halfway loses nothing and stores nothing twice.

    def test_a_failure_after_the_first_page_loses_nothing(
        self, platform: FakePlatform, collect_into_store: CollectIntoStore
    ) -> None:
        settings = self.settings(platform)
        platform.fail("server_error", after=1, times=10)
        broken = collect_into_store(self.connector, settings)
        assert broken.error is not None and "Transient" in broken.error
        assert 0 < broken.stored < self.items
        self.assert_no_secret(broken.error, platform)
        platform.clear_faults()
        healed = collect_into_store(self.connector, settings)
        assert healed.error is None
        assert broken.stored + healed.stored == self.items, (broken, healed)
        assert healed.in_store == self.items
        assert collect_into_store(self.connector, settings).stored == 0
        platform.add(2)
        again = collect_into_store(self.connector, settings)
        assert again.stored == 2 and again.in_store == self.items + 2

    # Registration and the command line.

    def test_is_registered_under_its_platform(self) -> None:
        platform: str = self.connector.platform  # type: ignore[attr-defined]
        assert load_connector(platform) is self.connector

    def test_reputation_fetch_prints_what_the_connector_yields(self, platform: FakePlatform) -> None:
        limit = self.items - 2
        done = self.reputation_fetch(platform, platform.env, "--limit", str(limit))
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(lines) == limit and {line["platform"] for line in lines} == {self.connector.platform}  # type: ignore[attr-defined]
        assert {line["native_id"] for line in lines} <= set(platform.published)
        assert all(line["created_at"].endswith("Z") for line in lines)

    def test_rejected_credentials_never_reach_the_command_line_or_the_run_report(
        self, platform: FakePlatform, collect_into_store: CollectIntoStore
    ) -> None:
        if not self.connector.credentials:  # type: ignore[attr-defined]
            return
        wrong = {name: value + "-revoked" for name, value in platform.env.items()}
        fetched = self.reputation_fetch(platform, wrong)
        assert fetched.returncode == 1 and fetched.stdout == "", fetched.stderr
        ran = collect_into_store(self.connector, self.settings(platform, env=wrong))
        assert ran.error is not None and ran.error.startswith("AuthenticationFailed"), ran.error
        for secret in wrong.values():
            assert secret not in fetched.stderr and secret not in ran.error

    def reputation_fetch(
        self, platform: FakePlatform, env: Mapping[str, str], *args: str
    ) -> subprocess.CompletedProcess[str]:
        """`reputation fetch` in its own process, as a user runs it: the connector found by its entry point."""
        options = [part for key, value in self.options.items() for part in ("--option", f"{key}={json.dumps(value)}")]
        command = [sys.executable, "-m", "reputation", "fetch", self.connector.platform]  # type: ignore[attr-defined]
        command += ["--query", self.query, "--base-url", platform.url, *options, *args]
        clean = {name: value for name, value in os.environ.items() if not name.startswith("REPUTATION_")}
        return subprocess.run(
            command, env={**clean, **env}, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS, check=False
        )


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a test connector tried to sleep {seconds}s")
