"""Live equals rebuild, in the orders the live path really delivers events (issue 12).

The relay links events in store order and publishes each keyed by its family; the worker
consumes the partitions independently, so it can meet a clock tick (keyed "hub") before the
events stored ahead of it, a family's events before those of a family it absorbed, and a
Marac hearing only after the abuse that followed it. Whatever it met in between, once every
event is applied the read models must be the ones ``hub replay`` builds from the store.
These tests drive the linker and the projector in-process (no broker) in such orders.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bench._replay_data import build_staging, families_for, make_store
from hub.adapters.sql.db import make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.schema import alerts
from hub.domain.areas import load_areas
from hub.domain.events import CanonicalEvent
from hub.domain.internal import clock_tick
from hub.pipeline.linking import Linker
from hub.pipeline.projector import FamilyProjector
from hub.pipeline.replay import rebuild, state_digest
from tests.unit.family_builders import (
    MONDAY,
    action_update,
    contact,
    days,
    hearing,
    incident,
    referral,
)

TOPIC = "hub.events.v1"


@pytest.fixture
def engine(any_db_engine: Engine) -> Engine:
    """SQLite, and PostgreSQL when HUB_TEST_POSTGRES_URL is set (conftest.any_db_engine)."""
    return any_db_engine


def store(engine: Engine, *evs: CanonicalEvent) -> None:
    """Append events in this (store) order, as ingress and the ticker do."""
    s = SqlEventStore(engine)
    for e in evs:
        s.append(e, hashlib.sha256(e.to_json().encode()).hexdigest(), TOPIC)


def link_all(engine: Engine) -> None:
    """The relay has linked (and published) every stored event."""
    Linker(engine).link(SqlEventStore(engine).read(0, 1_000_000))


def alert_rules(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return sorted((r, f) for r, f in conn.execute(select(alerts.c.rule, alerts.c.family_id)))


def rebuilt_equals_live(engine: Engine) -> bool:
    live = state_digest(engine)
    rebuild(engine, load_areas())
    return state_digest(engine) == live


def test_a_hearing_recorded_after_the_abuse_that_followed_it_leaves_one_alert(
    engine: Engine,
) -> None:
    # three incidents after the case was heard reach the hub before the hearing's record does:
    # they are potential escalation in the hearing's cycle, not a second alert in "no cycle"
    abuse = [incident(MONDAY + days(n)) for n in (10, 20, 30)]
    heard = hearing(MONDAY)
    store(engine, *abuse, heard)
    linker, projector = Linker(engine), FamilyProjector(engine, load_areas())
    announced = []
    for seq, e in SqlEventStore(engine).read(0, 100):  # in store order, one at a time
        linker.link([(seq, e)])
        announced += projector.apply_batch([e])

    rules = [rule for rule, _ in alert_rules(engine)]
    assert rules.count("potential_escalation") == 1
    withdrawn = [a for a in announced if a["change"] == "withdrawn"]
    assert [a["rule"] for a in withdrawn] == ["potential_escalation"]  # the inbox is told
    assert rebuilt_equals_live(engine)


def test_a_tick_that_overtakes_a_contact_attempt_leaves_no_overdue_alert(engine: Engine) -> None:
    # the Idva tried to reach the victim the day after the referral; the clock passed the
    # five-working-day deadline later. The tick travels on its own partition, so the worker
    # can meet it before the contact attempt: the overdue alert it raises then must go.
    projector = FamilyProjector(engine, load_areas())
    known = incident(MONDAY - days(7))
    store(engine, known)
    link_all(engine)
    projector.apply_batch([known])  # the family is projected before the next relay batch
    asked = referral(MONDAY, to="community_idva")
    tried = contact(MONDAY + days(1))
    tick = clock_tick(MONDAY + days(14))
    store(engine, asked, tried, tick)
    link_all(engine)
    for e in (asked, tick):
        projector.apply_batch([e])
    assert [rule for rule, _ in alert_rules(engine)] == ["first_contact_overdue"]

    announced = projector.apply_batch([tried])
    assert alert_rules(engine) == []
    assert [(a["rule"], a["change"]) for a in announced] == [("first_contact_overdue", "withdrawn")]
    assert rebuilt_equals_live(engine)


def test_marac_actions_overdue_at_a_tick_then_done_equal_their_rebuild(engine: Engine) -> None:
    # a hearing's two actions fall due; the clock passes the due day; then the Idva marks its
    # action done (late): its overdue alert goes, the police's stays, live equals rebuild
    projector = FamilyProjector(engine, load_areas())
    heard = hearing(MONDAY, due=MONDAY + days(7))
    store(engine, heard)
    link_all(engine)
    projector.apply_batch([heard])
    tick = clock_tick(MONDAY + days(10))
    done = action_update(MONDAY + days(12), f"{heard.hub_id}.1", "done")
    store(engine, tick, done)
    link_all(engine)
    projector.apply_batch([tick])
    assert [rule for rule, _ in alert_rules(engine)] == ["action_overdue", "action_overdue"]

    announced = projector.apply_batch([done])
    assert [rule for rule, _ in alert_rules(engine)] == ["action_overdue"]
    assert [(a["rule"], a["change"]) for a in announced] == [("action_overdue", "withdrawn")]
    assert rebuilt_equals_live(engine)


# --- a simulator load, consumed partition by partition with lag ---------------------------


def live_in_partitions(engine: Engine, seed: int, partitions: int = 4, relay: int = 250) -> None:
    """Link in relay-sized batches and publish keyed by family; after every relay batch the
    worker catches up on some partitions and lags on others (each partition in order)."""
    rng = random.Random(seed)
    linker, projector = Linker(engine), FamilyProjector(engine, load_areas())
    queues: list[list[CanonicalEvent]] = [[] for _ in range(partitions)]
    reader, after = SqlEventStore(engine), 0
    while rows := reader.read(after, relay):
        after = rows[-1][0]
        families = linker.link(rows)
        for _, e in rows:
            for family in families[e.hub_id]:
                queues[_partition(family, partitions)].append(e)
        for q in queues:
            taken = len(q) if rng.random() < 0.5 else rng.randint(0, len(q) // 4)
            _consume(projector, q[:taken])
            del q[:taken]
    for q in queues:
        _consume(projector, q)


def _partition(key: str, partitions: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % partitions


def _consume(projector: FamilyProjector, evs: Sequence[CanonicalEvent]) -> None:
    for i in range(0, len(evs), 500):  # the worker's batch size
        projector.apply_batch(evs[i : i + 500])


@pytest.fixture(scope="module")
def simulator_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An event store of about 2,500 simulator events (some 270 families) with daily ticks."""
    folder = tmp_path_factory.mktemp("simulator")
    running = build_staging(folder / "staging.db", 2500)
    make_store(
        folder / "staging.db", f"sqlite:///{folder / 'store.db'}", families_for(running, 2500)
    )
    return folder / "store.db"


@pytest.mark.parametrize("seed", [1, 3])  # orders that left stale alerts before the fix
def test_a_simulator_load_consumed_out_of_store_order_equals_its_rebuild(
    simulator_store: Path, tmp_path: Path, seed: int
) -> None:
    copy = tmp_path / "live.db"
    copy.write_bytes(simulator_store.read_bytes())
    engine = make_engine(f"sqlite:///{copy}")
    live_in_partitions(engine, seed)
    assert len(alert_rules(engine)) > 100  # a load that raises alerts worth comparing
    assert rebuilt_equals_live(engine)
    engine.dispose()
