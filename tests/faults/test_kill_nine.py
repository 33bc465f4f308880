"""kill -9 of the worker, then the embedded broker, then `hub up` itself, while agencies send:
`hub up` restarts what dies (and an operator restarts `hub up`), and afterwards every event
the hub acknowledged is stored exactly once, no alert is doubled, a rebuild from the event
store gives the same read models, and the audit log verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, exists, func, select

from hub.adapters.kafka.embedded import free_port
from hub.adapters.sql.db import create_schema, make_engine, scratch_schema
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.adapters.sql.schema import alerts, events, outbox, processed_events
from hub.pipeline.projector import CONSUMER as PROJECTOR
from producers.simulator import DEMO_AGENCIES, demo_stream
from tests.cli import run_hub
from tests.faults.hub_process import HubUp, LedgerSender, processes_mentioning
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

FAMILIES = 200  # about 1,900 events
START = 180.0  # generous deadlines for a shared 2-core machine: conditions, not timings
RECOVER = 120.0
STOP_DEADLINE = 20.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'hub.db'}"
        return
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    with scratch_schema(url, "faults") as scratch:
        yield scratch


def drained(engine: Engine) -> bool:
    """Every stored event published and applied by the worker."""
    applied = exists().where(
        processed_events.c.consumer == PROJECTOR, processed_events.c.hub_id == events.c.hub_id
    )
    with engine.connect() as conn:
        unsent = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar_one()
        unapplied = conn.execute(select(func.count()).select_from(events).where(~applied))
        return unsent == 0 and unapplied.scalar_one() == 0


def test_nothing_acknowledged_is_lost_or_doubled_under_kill_9(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "HUB_DATABASE_URL": database_url,
           "HUB_API_PORT": str(free_port()), "HUB_CLOCK_CHECK_SECONDS": "3600",
           "HUB_LOG_LEVEL": "WARNING",
           # /readyz answers from checks run this often (5 s by default): the test waits on it
           "HUB_READINESS_INTERVAL_SECONDS": "0.5"}  # fmt: skip
    env.pop("HUB_KAFKA_BOOTSTRAP", None)
    engine = make_engine(database_url)
    create_schema(engine)
    principals = SqlPrincipalStore(engine)
    keys = {
        a: principals.add(a, "agency_system", t, agency_id=a)[1] for a, t in DEMO_AGENCIES.items()
    }
    chair = principals.add("Chair Example", "person", "marac_chair", None)[1]
    stream = demo_stream(FAMILIES, seed=12)
    quarter = len(stream) // 4

    hub = HubUp(env, data_dir, int(env["HUB_API_PORT"]))
    sender = LedgerSender(hub.base_url, keys, stream, chair)
    hub.start()
    try:
        wait_for(hub.ready, START, "hub up to be ready")
        sender.allow(quarter)
        sender.start()

        def sent(n: int) -> bool:
            assert sender.error is None, sender.error
            return len(sender.acknowledged) >= n

        wait_for(lambda: sent(quarter // 2), RECOVER, "the first events")
        worker = hub.kill_child("worker")
        sender.allow(2 * quarter)
        wait_for(lambda: hub.replaced("worker", worker), RECOVER, "a new worker")

        wait_for(lambda: sent(quarter + quarter // 2), RECOVER, "events after the worker")
        broker, worker = hub.kill_child("broker"), hub.children()["worker"]
        sender.allow(3 * quarter)
        wait_for(
            lambda: hub.replaced("broker", broker) and hub.replaced("worker", worker),
            RECOVER, "a new broker and worker",
        )  # fmt: skip

        wait_for(lambda: sent(2 * quarter + quarter // 2), RECOVER, "events after the broker")
        hub.kill()  # the operator's hub up is gone: they start it again on the same data
        sender.allow(len(stream))
        hub.start()

        sender.join(START + RECOVER)
        assert not sender.is_alive(), "the sender did not finish"
        assert sender.error is None, sender.error
        assert sender.refused == []
        wait_for(lambda: drained(engine) and hub.ready(), RECOVER, "the pipeline to drain")
        # Stopping right after a broker loss used to take 29 s and a SIGKILL for the worker
        # (faust waits on the lost broker); it is bounded now, and SIGTERM runs the ordered
        # stop and exits 0. The deadline is generous: a hang, not a slow machine, fails it.
        hub.kill_child("broker")
        assert hub.terminate(deadline=STOP_DEADLINE) == 0
        assert processes_mentioning(str(data_dir)) == []
    finally:
        sender.halt()
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.kill()
            hub.proc.wait(30)

    acknowledged = Counter(sender.acknowledged)
    with engine.connect() as conn:
        stored = Counter(
            (agency, source)
            for agency, source in conn.execute(select(events.c.agency_id, events.c.source_id))
        )
        alert_rows = conn.execute(
            select(alerts.c.alert_id, alerts.c.rule, alerts.c.family_id, alerts.c.victim_token,
                   alerts.c.triggering_event_ids)
        ).all()  # fmt: skip
    assert len(acknowledged) == len(stream)  # each event acknowledged (some after a resend)
    assert {k: stored[k] for k in acknowledged} == dict.fromkeys(acknowledged, 1)
    assert alert_rows, "the simulated families raise alerts"
    ids = Counter(a.alert_id for a in alert_rows)
    assert [i for i, n in ids.items() if n > 1] == []
    same = Counter(
        (a.rule, a.family_id, a.victim_token, tuple(sorted(json.loads(a.triggering_event_ids))))
        for a in alert_rows
    )
    assert [k for k, n in same.items() if n > 1] == []
    engine.dispose()

    replay = run_hub("replay", env=env)  # in-process: the checks after the faults
    assert replay.returncode == 0, replay.stderr
    assert "read models unchanged" in replay.stdout, replay.stdout
    assert sender.reads > 0
    verify = run_hub("audit", "verify", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
