"""/readyz and /metrics while the hub's servers go away and come back, with the production
split (an API process with its relay, a worker process): unready naming the broker or the
database within the detection interval, the relay's lag rising while the broker is gone and
falling once it is back, ready again after. Waits are conditions with generous deadlines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from hub.adapters.kafka.embedded import EmbeddedBroker, stop_process
from hub.adapters.kafka.topics import ensure_topics
from hub.adapters.sql.db import scratch_schema
from hub.bootstrap import build_services
from hub.settings import Settings
from tests import builders as b
from tests.integration.conftest import RunningHub, running_hub_for, wait_for
from tests.integration.test_metrics import Samples, parse, value
from tests.tcp_proxy import TcpProxy

running = contextlib.contextmanager(running_hub_for)


def settings_for(data_dir: Path, bootstrap: str, database_url: str = "") -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        topic_partitions=2,
        relay_poll_seconds=0.05,
        clock_check_seconds=3600,
        readiness_interval_seconds=0.5,
    ).with_bootstrap(bootstrap, embedded=True)


def police_key(settings: Settings) -> dict[str, str]:
    services = build_services(settings)
    _p, key = services.principals.add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")
    services.engine.dispose()
    return {"Authorization": f"Bearer {key}"}


def readiness(hub: RunningHub) -> tuple[int, dict[str, Any]]:
    r = hub.http.get("/readyz")
    return r.status_code, r.json()


def ready(hub: RunningHub) -> bool:
    return readiness(hub)[0] == 200


def failing(hub: RunningHub, check: str) -> bool:
    code, body = readiness(hub)
    return code == 503 and check in body["failing"]


def metrics(hub: RunningHub) -> Samples:
    return parse(hub.http.get("/metrics").text)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker for this test alone: it is stopped and started again on the same port."""
    broker = EmbeddedBroker.start(tmp_path / "broker")
    yield broker
    stop_process(broker.proc, "embedded broker", 10)


def test_a_lost_broker_is_named_and_the_relay_lag_rises_then_falls(
    tmp_path: Path, own_broker: EmbeddedBroker
) -> None:
    settings = settings_for(tmp_path / "data", own_broker.bootstrap)
    ensure_topics(settings)
    police = police_key(settings)
    with running(settings) as hub:
        wait_for(lambda: ready(hub), 90, "/readyz to answer 200")
        stop_process(own_broker.proc, "embedded broker", 10)
        wait_for(lambda: failing(hub, "broker"), 60, "/readyz to name the broker")
        for _ in range(5):  # still accepted: stored with their outbox rows
            event = b.incident()
            assert hub.http.post("/v1/events", json=event, headers=police).status_code == 202
        rising = wait_for(
            lambda: (s := metrics(hub)) and value(s, "hub_relay_unsent") >= 5 and s,
            60,
            "the relay's backlog in /metrics",
        )
        assert value(rising, "hub_check_broker_ok") == 0 and value(rising, "hub_ready") == 0

        # the broker comes back (empty: the embedded one keeps memory only), as `hub up`'s
        # supervisor brings it back: same port, topics created, a new worker
        back = EmbeddedBroker.start(tmp_path / "broker-again", own_broker.port)
        own_broker.proc = back.proc  # the fixture stops this one
        # the relay's retries may reach the new broker first: it publishes them again once the
        # topics exist (a new broker drops what it is sent before), so this may race it
        ensure_topics(settings)
        hub.restart_worker()

        def caught_up() -> Samples | None:
            s = metrics(hub)
            done = value(s, "hub_relay_unsent") == 0 and value(s, "hub_consumer_unapplied") == 0
            return s if done and value(s, "hub_ready") == 1 else None

        fallen = wait_for(caught_up, 120, "the lags to fall and the hub to be ready again")
        assert value(fallen, "hub_relay_lag_seconds") == 0
        assert ready(hub)


def test_a_lost_database_is_named_and_the_hub_is_ready_again_when_it_returns(
    tmp_path: Path, postgres_url: str, broker: EmbeddedBroker
) -> None:
    with scratch_schema(postgres_url, "test") as scratch:
        real = make_url(scratch)
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
        try:
            through_proxy = real.set(host="127.0.0.1", port=proxy.port)
            url = through_proxy.render_as_string(hide_password=False)
            settings = settings_for(tmp_path / "data", broker.bootstrap, url)
            settings = settings.replace(topic_prefix=f"{tmp_path.name[-12:]}.")
            ensure_topics(settings)
            with running(settings) as hub:
                wait_for(lambda: ready(hub), 90, "/readyz to answer 200")
                proxy.cut()
                wait_for(lambda: failing(hub, "database"), 60, "/readyz to name the database")
                assert hub.http.get("/healthz").status_code == 200  # alive, not restarted
                assert value(metrics(hub), "hub_check_database_ok") == 0
                proxy.restore()
                wait_for(lambda: ready(hub), 120, "/readyz to answer 200 again")
                assert value(metrics(hub), "hub_check_database_ok") == 1
        finally:
            proxy.cut()
