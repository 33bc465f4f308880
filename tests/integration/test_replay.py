"""Rebuild and refill: a replay from the event store gives the live state back, and a new
broker is refilled with nothing lost or doubled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select

from audit.publish import AUDIT_CHECKPOINTS
from hub.adapters.audit_wiring import open_audit_store
from hub.adapters.kafka import topics
from hub.adapters.kafka.embedded import free_port, stop_process
from hub.adapters.sql.db import make_engine
from hub.adapters.sql.schema import alerts, events, processed_events
from hub.bootstrap import build_services
from hub.entrypoints.stack import Stack, child_env
from hub.pipeline.projector import CONSUMER as PROJECTOR
from hub.pipeline.replay import state_digest
from hub.settings import Settings
from producers.simulator import DEMO_AGENCIES, demo_stream
from tests.cli import run_hub
from tests.integration.conftest import RunningHub, read_topic, wait_for


def count(engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def projected(engine) -> int:
    """Events the worker's family projector has applied (its tracking rows)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.consumer == PROJECTOR)
            ).scalar_one()
        )


def send_stream(http: httpx.Client, services, families: int, seed: int) -> int:
    keys = {
        name: services.principals.add(f"{name}-{seed}", "agency_system", kind, name)[1]
        for name, kind in DEMO_AGENCIES.items()
    }
    sent = 0
    for agency, event in demo_stream(families, seed=seed):
        r = http.post("/v1/events", json=event, headers={"Authorization": f"Bearer {keys[agency]}"})
        assert r.status_code == 202, r.text
        sent += 1
    return sent


def test_replay_rebuilds_exactly_the_live_state(running_hub: RunningHub) -> None:
    hub = running_hub
    services = build_services(hub.settings)
    sent = send_stream(hub.http, services, families=6, seed=11)
    wait_for(lambda: projected(services.engine) == sent, 90, "every event applied")
    live = state_digest(services.engine)
    assert count(services.engine, alerts) > 0  # the stream raises alerts worth comparing

    replay = run_hub("replay", env=child_env(hub.settings))
    assert replay.returncode == 0, replay.stderr
    assert f"replayed {sent} events" in replay.stdout and "unchanged" in replay.stdout
    assert state_digest(services.engine) == live


def test_a_new_broker_is_refilled_and_nothing_is_lost_or_doubled(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", relay_poll_seconds=0.05, log_level="WARNING",
        clock_check_seconds=3600,
    )  # fmt: skip

    def run_once(families: int, seed: int) -> tuple[int, str, int, int, int]:
        """Start a new embedded broker, worker and API on the same data; send; stop."""
        stack = Stack(settings)
        s = stack.start()
        services = build_services(s)
        # a port of its own each time: a port freed by the last run may since belong to another
        # test's process (the suite runs in parallel), whose API would not know these keys
        port = free_port()
        api = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve"],
            env=child_env(s) | {"HUB_API_PORT": str(port)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        try:
            wait_for(lambda: _healthy(http), 30, "the API")
            sent = send_stream(http, services, families, seed) if families else 0
            total = count(services.engine, events)
            wait_for(lambda: services.ingress.store.unpublished_count() == 0, 60, "the refill")
            wait_for(lambda: projected(services.engine) == total, 90, "every event applied")
            # an event naming people of two families at the time is sent to each: count ids
            on_topic = len({json.loads(v)["hub_id"] for v in read_topic(s, s.topic(topics.EVENTS))})
            signed = len(read_topic(s, s.topic(AUDIT_CHECKPOINTS)))
            digest = state_digest(services.engine)
            return sent, digest, count(services.engine, alerts), on_topic, signed
        finally:
            http.close()
            stop_process(api, "api")
            stack.stop()

    first_sent, first_state, first_alerts, first_topic, _ = run_once(4, seed=21)
    assert first_sent > 0 and first_alerts > 0 and first_topic >= first_sent
    # a disclosure sealed by a signed checkpoint, while no broker runs
    audit = open_audit_store(settings, make_engine(settings.effective_database_url), publish=False)
    audit.append({"action": "TEST read", "subjects": ["st_testvictimalexexample"]})
    audit.checkpoint()
    # the broker is gone (memory only); a new one is refilled with every stored event and
    # every checkpoint, and the worker, meeting the events again, changes nothing
    _, refilled_state, refilled_alerts, refilled_topic, checkpoints = run_once(0, seed=0)
    assert refilled_topic == first_topic and checkpoints == 1
    assert refilled_state == first_state and refilled_alerts == first_alerts
    # and the new broker carries new work as before
    more, _, alerts_after, _, _ = run_once(3, seed=22)
    assert more > 0 and alerts_after > first_alerts


def _healthy(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False
