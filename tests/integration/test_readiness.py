"""/readyz: 200 when database, broker, worker and lags are fine; 503 naming what is not.
/healthz stays 'process up'."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.progress import beat
from hub.adapters.sql.schema import events, failed_events, outbox, processed_events
from hub.pipeline.projector import CONSUMER
from hub.services.readiness import check
from hub.settings import Settings
from tests.integration.conftest import Api, RunningHub, running_hub_for, wait_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RELAY_OK = {"broker_ok": True, "error": "", "down_seconds": 0.0}


def reachable(_bootstrap: str, _timeout: float) -> str | None:
    return None


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(e)
    return e


def stored(engine: Engine, seq: int, recorded: datetime, published: datetime | None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(events).values(
            seq=seq, hub_id=f"h{seq}", agency_id="TEST-POLICE-A", source_id=f"e{seq}",
            type="police.incident", event_time=recorded, recorded_at=recorded,
            partition_key="k", content_hash="x", body="{}",
        ))  # fmt: skip
        conn.execute(insert(outbox).values(
            event_seq=seq, topic="hub.events.v1", key="k", value="{}", published_at=published
        ))  # fmt: skip


def test_ready_when_everything_answers_and_nothing_waits(engine: Engine) -> None:
    beat(engine, "host:1", NOW - timedelta(seconds=2))
    stored(engine, 1, NOW - timedelta(minutes=5), NOW - timedelta(minutes=5))
    with engine.begin() as conn:
        conn.execute(insert(processed_events).values(consumer=CONSUMER, hub_id="h1"))
    r = check(engine, RELAY_OK, "127.0.0.1:9", NOW, probe=reachable)
    assert r.ready, r.body()
    assert r.body()["checks"]["worker"]["heartbeat_age_seconds"] == 2.0


def test_an_event_set_apart_as_poison_is_counted_but_does_not_make_the_hub_unready(
    engine: Engine,
) -> None:
    beat(engine, "host:1", NOW - timedelta(seconds=2))
    stored(engine, 1, NOW - timedelta(minutes=5), NOW - timedelta(minutes=5))
    with engine.begin() as conn:
        conn.execute(insert(failed_events).values(
            hub_id="h1", family_id="fam_1", first_failed_at=NOW, last_failed_at=NOW,
            error_type="OverflowError", last_error="date value out of range", attempts=1,
            status="open",
        ))  # fmt: skip
    r = check(engine, RELAY_OK, "127.0.0.1:9", NOW, probe=reachable)
    assert r.ready, r.body()
    worker = r.body()["checks"]["worker"]
    assert (worker["unapplied"], worker["set_apart"]) == (0, 1)


def test_a_silent_worker_and_events_waiting_for_it_are_named(engine: Engine) -> None:
    beat(engine, "host:1", NOW - timedelta(minutes=1))
    stored(engine, 1, NOW - timedelta(minutes=3), NOW - timedelta(minutes=2))
    body = check(engine, RELAY_OK, "127.0.0.1:9", NOW, probe=reachable).body()
    assert body["status"] == "not ready"
    assert body["failing"] == ["worker"]
    worker = body["checks"]["worker"]
    assert worker["detail"] == "no worker heartbeat for 60 s"
    assert (worker["unapplied"], worker["lag_seconds"]) == (1, 120.0)


def test_an_unsent_outbox_and_a_lost_broker_are_named(engine: Engine) -> None:
    beat(engine, "host:1", NOW)
    stored(engine, 1, NOW - timedelta(minutes=2), None)
    lost = {"broker_ok": False, "error": "KafkaConnectionError: refused", "down_seconds": 9.0}
    body = check(engine, lost, "127.0.0.1:9", NOW, probe=reachable).body()
    assert body["failing"] == ["broker", "relay"]
    assert "cannot publish: KafkaConnectionError" in body["checks"]["broker"]["detail"]
    assert (body["checks"]["relay"]["unsent"], body["checks"]["relay"]["lag_seconds"]) == (1, 120)
    closed = check(engine, RELAY_OK, "127.0.0.1:9", NOW, probe=lambda b, t: "refused").body()
    assert closed["checks"]["broker"] == {"ok": False, "bootstrap": "127.0.0.1:9",
                                          "detail": "refused"}  # fmt: skip


def test_an_api_without_broker_is_alive_but_not_ready(api: Api) -> None:
    assert api.client.get("/healthz").status_code == 200
    r = api.client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failing"][0] == "broker"
    assert body["checks"]["broker"]["detail"] == "no broker configured (HUB_KAFKA_BOOTSTRAP)"
    # the lags are still measured: they are what a lost broker makes grow
    assert body["checks"]["relay"]["unsent"] == 0


@pytest.fixture
def quickly_checked_hub(hub_settings: Settings) -> Iterator[RunningHub]:
    """A running hub whose API runs its readiness checks every 0.5 s, not every 5 s: /readyz
    answers from the latest check, so the wait below is the hub's, not the interval's."""
    yield from running_hub_for(hub_settings.replace(readiness_interval_seconds=0.5))


@pytest.mark.integration
def test_a_running_hub_becomes_ready(quickly_checked_hub: RunningHub) -> None:
    running_hub = quickly_checked_hub

    def ready() -> dict | None:
        r = running_hub.http.get("/readyz")
        return r.json() if r.status_code == 200 else None

    body = wait_for(ready, 60, "/readyz to answer 200")
    assert body["checks"]["broker"]["ok"] and body["checks"]["worker"]["ok"]


def test_the_monitor_answers_from_its_latest_check_and_a_stuck_check_is_unready() -> None:
    import asyncio

    from hub.services.readiness import Readiness, ReadinessMonitor

    now = [100.0]
    calls: list[int] = []

    def run_check() -> Readiness:
        calls.append(1)
        r = Readiness()
        r.checks["database"] = {"ok": True}
        return r

    async def scenario() -> None:
        monitor = ReadinessMonitor(run_check, interval=5.0, clock=lambda: now[0])
        assert not monitor.latest().ready  # nothing checked yet
        task = asyncio.create_task(monitor.run())
        assert (await monitor.current()).ready
        now[0] += 14.0  # under three intervals since the last check: still its answer
        assert monitor.latest().ready
        now[0] += 2.0  # over three: the checks are stuck
        stale = monitor.latest().body()
        assert stale["failing"] == ["checks"]
        assert "have not finished for 16 s" in stale["checks"]["checks"]["detail"]
        monitor.stop()
        await task

    asyncio.run(scenario())
    assert len(calls) == 1  # one check per interval, however often it is asked
