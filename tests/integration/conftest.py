"""Fixtures for integration tests: a real Tansu broker, real databases, the hub's processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hub.adapters.kafka.embedded import EmbeddedBroker, free_port, stop_process
from hub.adapters.kafka.topics import ensure_topics
from hub.adapters.sql.db import create_schema, make_engine, scratch_schema
from hub.bootstrap import Services
from hub.entrypoints.api.app import create_app
from hub.entrypoints.stack import child_env, start_worker
from hub.settings import Settings


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll condition until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)  # polling interval of a condition wait with a deadline


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """wait_for inside an event loop: poll condition until true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)  # polling interval of a condition wait with a deadline


def read_topic(settings: Settings, topic: str, timeout: float = 30.0) -> list[bytes]:
    """Every message value on the topic, from the start of each partition to its end now.

    The end is each partition's high watermark as the fetch responses report it (the embedded
    broker's ListOffsets cannot be trusted, DESIGN.md), so reading stops as soon as it is
    reached instead of after seconds without a message."""
    from kafka import KafkaConsumer, TopicPartition

    from hub.contract.kafka_clients import kafka_python_consumer_tuning

    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False, **kafka_python_consumer_tuning(settings.embedded_broker),
    )  # fmt: skip
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        parts = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not parts:  # the topic does not exist (yet): nothing on it
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        values: list[bytes] = []

        def at_the_end() -> bool:
            for batch in consumer.poll(timeout_ms=100).values():
                values.extend(m.value for m in batch)
            marks = [consumer.highwater(p) for p in parts]  # None until a fetch answered
            ends = zip(parts, marks, strict=True)
            return all(h is not None and consumer.position(p) >= h for p, h in ends)

        wait_for(at_the_end, timeout, f"the end of {topic}")
        return values
    finally:
        consumer.close()


class TopicTail:
    """Follows a topic from its start; at_least(n) is a condition for wait_for."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from kafka import KafkaConsumer

        from hub.contract.kafka_clients import kafka_python_consumer_tuning

        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
            **kafka_python_consumer_tuning(True),
        )  # fmt: skip
        self.records: list[Any] = []

    def at_least(self, n: int) -> list[Any]:
        for batch in self.consumer.poll(timeout_ms=200).values():
            self.records += batch
        return self.records if len(self.records) >= n else []

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = EmbeddedBroker.start(tmp_path_factory.mktemp("broker"))
    yield b
    b.stop()


@pytest.fixture
def hub_settings(tmp_path: Path, broker: EmbeddedBroker) -> Settings:
    """Settings for one test: its own data dir, database and topics on the shared broker."""
    s = Settings(
        data_dir=tmp_path / "data",
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        topic_partitions=2,
        relay_poll_seconds=0.05,
        clock_check_seconds=3600,  # no clock ticks unless a test asks for them
    ).with_bootstrap(broker.bootstrap, embedded=True)
    ensure_topics(s)
    return s


class RunningHub:
    def __init__(
        self, settings: Settings, base_url: str, worker: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.settings = settings
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.worker = worker

    def restart_worker(self) -> None:
        """A new worker process (as after a broker reset, whose groups died with it)."""
        if self.worker is not None:
            stop_process(self.worker, "worker", 20)
        self.worker = start_worker(self.settings)


@pytest.fixture
def running_hub(hub_settings: Settings) -> Iterator[RunningHub]:
    """A worker process and an API process (with its relay) for this test."""
    yield from running_hub_for(hub_settings)


def running_hub_for(hub_settings: Settings) -> Iterator[RunningHub]:
    """A worker process and an API process (with its relay) on these settings."""
    from hub.bootstrap import build_services

    build_services(hub_settings).engine.dispose()  # schema and keys exist before both start
    port = free_port()
    env = child_env(hub_settings) | {"HUB_API_PORT": str(port), "HUB_LOG_LEVEL": "WARNING"}
    log = open(hub_settings.data_dir / "api.log", "ab")  # noqa: SIM115 - closed below
    api = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    hub = RunningHub(hub_settings, f"http://127.0.0.1:{port}", start_worker(hub_settings))

    def healthy() -> bool:
        try:
            return hub.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            assert api.poll() is None, f"API exited; see {hub_settings.data_dir / 'api.log'}"
            return False

    try:
        wait_for(healthy, 120, "the API to answer /healthz")  # generous: busy CI machines
        yield hub
    finally:
        hub.http.close()
        # The worker is killed, not stopped: the test is over, every effect it made committed
        # with its tracking row, and its group and topics are this test's own. A SIGTERM
        # costs 3 s per test in faust's own stop (the graceful stop has its tests: the demo
        # and tests/faults). The API stops meanwhile.
        if hub.worker is not None and hub.worker.poll() is None:
            hub.worker.kill()
        stop_process(api, "api", 20)
        if hub.worker is not None:
            hub.worker.wait(20)
        log.close()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    return url


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its cheapest for passwords set and checked in this process: a hash or a
    check at the hub's parameters (64 MiB, t=3) costs 0.2-0.6 s of CPU on a busy 2-core
    machine, and the web tests log people in by the dozen. What they test (lock-outs, wrong
    passwords, sessions, temporary passwords) does not depend on the cost. The hub's own
    parameters are proven by tests/unit/test_logins.py, and every hub process a test starts
    (API, `hub up`, the browser tests' server) still hashes with them."""
    from argon2 import PasswordHasher

    from hub.adapters.sql import logins

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(logins, "_hasher", cheap)
    monkeypatch.setattr(logins, "_DUMMY_HASH", cheap.hash("not a password of anyone"))


# --- the API in-process on a real SQLite database, without a broker -------------------------


class Api:
    def __init__(self, client: TestClient, services: Services) -> None:
        self.client = client
        self.services = services

    def key(self, name: str, kind: str, role: str, agency: str | None = None) -> dict[str, str]:
        """A principal's Authorization header; an agency system acts for itself."""
        agency = name if kind == "agency_system" else agency
        _p, key = self.services.principals.add(name, kind, role, agency)
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        yield Api(client, app.state.services)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The API in-process on SQLite and, when HUB_TEST_POSTGRES_URL is set, PostgreSQL."""
    if request.param == "sqlite":
        app = create_app(Settings(data_dir=tmp_path))
        with TestClient(app) as client:
            yield Api(client, app.state.services)
        return
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    with scratch_schema(url, "test") as scratch:
        app = create_app(Settings(data_dir=tmp_path, database_url=scratch))
        with TestClient(app) as client:
            yield Api(client, app.state.services)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty hub database: SQLite, and PostgreSQL when HUB_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
        create_schema(engine)
        yield engine
        engine.dispose()
        return
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    with scratch_schema(url, "test") as scratch:
        engine = make_engine(scratch)
        create_schema(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def police(api: Api) -> dict[str, str]:
    return api.key("TEST-POLICE-A", "agency_system", "police")


@pytest.fixture
def idva(api: Api) -> dict[str, str]:
    return api.key("TEST-IDVA-A", "agency_system", "idva")


@pytest.fixture
def chair(api: Api) -> dict[str, str]:
    return api.key("Chair Example", "person", "marac_chair")
