"""The connector contract test kit: one subclass gives a connector the whole conformance suite.

    from connectors.testing import ConnectorContract
    from connectors.myplatform import MyPlatformConnector
    from tests.fakes.myplatform import FakeMyPlatform

    class TestMyPlatform(ConnectorContract, connector=MyPlatformConnector, fake=FakeMyPlatform): ...

The connector is run, through its real client library, against `fake`: a
`FakePlatform` subclass that serves the platform's protocol on 127.0.0.1 and can
be scripted to fail. The suite checks normalized mentions, the cursor (JSON
round trip, only new items on the next run, nothing from a cursor ahead of the
data), pagination (every page, no endless loop), the error taxonomy (429, 5xx,
dropped connections, 401, garbage), the framework's retries, that credentials
never leak into errors, and, through the real store and `collect`, that a run
failing halfway loses nothing and stores nothing twice.

A connector under test is built as `connector(settings, retry=RetryPolicy(...))`.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from connectors.errors import AuthenticationFailed, BadResponse, ConnectorError, RateLimited, Transient
from connectors.retry import RetryPolicy
from reputation import pipeline
from reputation.config import parse_config
from reputation.connector import Connector, SourceSettings
from reputation.models import FetchedBatch, Mention
from reputation.store import Store
from reputation.store.schema import mentions as mentions_table

BRAND = "Voltmart"
FAULTS = ("rate_limit", "server_error", "unauthorized", "garbage", "disconnect", "repeat_page")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/html; charset=utf-8")
        return json.dumps(self.body).encode(), "application/json; charset=UTF-8"


class FakePlatform:
    """A platform's API on 127.0.0.1, with a dataset that grows between runs and scriptable faults.

    Subclasses implement the protocol (`respond`, `fault_reply`, `is_data_request`)
    and the dataset (`publish`, `unpublish`, `env`). Every item `add` creates
    mentions `BRAND`, so brand rules keep it. Faults apply to data requests (not
    to token requests) in the order they were scripted with `fail`:

        rate_limit    429 with the platform's rate-limit headers (`retry_after_seconds`)
        server_error  a 5xx with the platform's error body
        unauthorized  401 with the platform's error body
        garbage       200 with an HTML body
        disconnect    the connection is closed without an answer
        repeat_page   the page's next-page token points at the page itself
    """

    page_size: int = 3
    retry_after_seconds: int = 7

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Request] = []
        self.published: list[str] = []
        self.lock = threading.RLock()
        self._script: list[str | None] = []
        self._server: ThreadingHTTPServer | None = None

    # The protocol and the dataset: what a platform's fake provides.

    @property
    def env(self) -> dict[str, str]:
        """Credentials this fake accepts, as the connector reads them from the environment."""
        raise NotImplementedError

    def publish(self, count: int) -> list[str]:
        """Add `count` new items (newer than all others); returns their mentions' native ids."""
        raise NotImplementedError

    def unpublish(self, count: int) -> list[str]:
        """Remove the `count` newest items; returns their mentions' native ids."""
        raise NotImplementedError

    def is_data_request(self, request: Request) -> bool:
        raise NotImplementedError

    def respond(self, request: Request, fault: str | None) -> Reply:
        """The answer to `request`; `fault` is None or "repeat_page"."""
        raise NotImplementedError

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "garbage":
            return Reply(200, "<html><body><h1>upstream connect error</h1></body></html>")
        raise NotImplementedError(fault)

    # The dataset, scripting and bookkeeping.

    def add(self, count: int = 1) -> list[str]:
        with self.lock:
            ids = self.publish(count)
            self.published.extend(ids)
            return ids

    def forget_newest(self, count: int) -> None:
        with self.lock:
            gone = set(self.unpublish(count))
            self.published = [native_id for native_id in self.published if native_id not in gone]

    def fail(self, fault: str, *, times: int = 1, after: int = 0) -> None:
        """Let `after` data requests succeed, then answer `times` of them with `fault`."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS}")
        with self.lock:
            self._script.extend([None] * after + [fault] * times)

    def clear_faults(self) -> None:
        with self.lock:
            self._script.clear()

    @property
    def data_requests(self) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if self.is_data_request(request)]

    def _dispatch(self, request: Request) -> Reply | None:
        with self.lock:
            self.requests.append(request)
            fault = self._script.pop(0) if self.is_data_request(request) and self._script else None
            if fault == "disconnect":
                return None
            if fault is not None and fault != "repeat_page":
                return self.fault_reply(fault, request)
            return self.respond(request, fault)

    def __enter__(self) -> FakePlatform:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body)
            reply = fake._dispatch(request)
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload, content_type = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            for name, value in reply.headers.items():
                if name.lower() != "content-type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


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
        settings = SourceSettings(
            name="contract",
            query=self.query,
            base_url=platform.url,
            limit=limit,
            options=dict(self.options),
            env=dict(platform.env if env is None else env),
        )
        return self.connector(settings, retry=retry or RetryPolicy(max_attempts=1, sleep=_no_sleep))

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
        self, platform: FakePlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # `collect` finds connectors by entry point; hand it the one under test
        # (registered or not yet) with a retry policy that never sleeps.
        factory = _Factory(self.connector, RetryPolicy(max_attempts=1, sleep=_no_sleep))
        monkeypatch.setattr(pipeline, "load_connector", lambda kind: factory)
        config = parse_config(
            {
                "brands": [{"name": BRAND, "aliases": [f"@{BRAND}"]}],
                "sources": [
                    {
                        "name": "contract",
                        "type": self.connector.platform,  # type: ignore[attr-defined]
                        "query": self.query,
                        "base_url": platform.url,
                        "options": dict(self.options),
                    }
                ],
            },
            "contract.yaml",
        )
        store = Store.open(f"sqlite:///{tmp_path / 'contract.db'}")
        source = config.sources[0]
        try:
            platform.fail("server_error", after=1, times=10)
            broken = pipeline.collect(store, config, source, platform.env)
            assert broken.run.error is not None and "Transient" in broken.run.error
            assert 0 < broken.run.stored < self.items
            self.assert_no_secret(broken.run.error, platform)
            platform.clear_faults()
            healed = pipeline.collect(store, config, source, platform.env)
            assert healed.run.error is None
            assert broken.run.stored + healed.run.stored == self.items, (broken, healed)
            assert _count(store) == self.items
            assert pipeline.collect(store, config, source, platform.env).run.stored == 0
            platform.add(2)
            assert pipeline.collect(store, config, source, platform.env).run.stored == 2
            assert _count(store) == self.items + 2
        finally:
            store.close()


class _Factory:
    def __init__(self, connector: Callable[..., Connector], retry: RetryPolicy) -> None:
        self.connector = connector
        self.retry = retry
        self.platform: str = connector.platform  # type: ignore[attr-defined]
        self.credentials: tuple[str, ...] = connector.credentials  # type: ignore[attr-defined]

    def __call__(self, settings: SourceSettings) -> Connector:
        return self.connector(settings, retry=self.retry)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a test connector tried to sleep {seconds}s")


def _count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(mentions_table)) or 0)
