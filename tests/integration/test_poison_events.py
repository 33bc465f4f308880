"""No single event stops the projector or a replay (issue 12, defect 1).

A poison event (here an event time of year 1, stored before ingress refused such times,
which the rules cannot turn into a local date) among good events: the projector applies the
others, sets it apart in failed_events (its family needs attention), a replay does the same
and ends with the same read models, and a retry after the fix applies it. The projector and
linker run in-process on SQLite and, when HUB_TEST_POSTGRES_URL is set, PostgreSQL.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from hub.adapters.sql import failed
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.schema import subject_tokens
from hub.domain.areas import load_areas
from hub.domain.calendar import Calendar
from hub.domain.events import CanonicalEvent
from hub.pipeline import settle
from hub.pipeline.linking import Linker
from hub.pipeline.projector import FamilyProjector, family_state_of_token
from hub.pipeline.replay import rebuild, state_digest
from hub.pipeline.retry import retry
from tests.unit.family_builders import MONDAY, days, incident

OTHER_VICTIM = "st_testvictimjoexample"
OTHER_PERP = "st_testperpetratorjosample"
YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(any_db_engine: Engine) -> Engine:
    """SQLite, and PostgreSQL when HUB_TEST_POSTGRES_URL is set (conftest.any_db_engine)."""
    return any_db_engine


def store_and_link(engine: Engine, *evs: CanonicalEvent) -> None:
    """Append events as ingress would (bypassing its checks) and link them as the relay does."""
    s = SqlEventStore(engine)
    for e in evs:
        s.append(e, hashlib.sha256(e.to_json().encode()).hexdigest(), "hub.events.v1")
    Linker(engine).link(s.read(0, 1_000_000))


def family_id(engine: Engine, token: str) -> str:
    with engine.connect() as conn:
        q = select(subject_tokens.c.family_id).where(subject_tokens.c.token == token)
        return str(conn.execute(q).scalar_one())


def timeline(engine: Engine, token: str) -> set[str]:
    state = family_state_of_token(engine, token)
    assert state is not None
    return {e["hub_id"] for e in state["timeline"]}


def unresolved(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as conn:
        return [(r.hub_id, r.family_id, r.error_type, r.attempts) for r in failed.rows(conn)]


@pytest.fixture
def poisoned(engine: Engine) -> tuple[list[CanonicalEvent], CanonicalEvent]:
    """Two families' good events and one poison event of the first family, all projected
    live in one batch."""
    good = [
        incident(MONDAY),
        incident(MONDAY + days(3)),
        incident(MONDAY, OTHER_VICTIM, [OTHER_PERP]),
    ]
    poison = incident(YEAR_ONE)
    store_and_link(engine, good[0], poison, *good[1:])
    outcome = FamilyProjector(engine, load_areas()).process([good[0], poison, *good[1:]])
    assert [(f.hub_id, f.error_type) for f in outcome.failures] == [
        (poison.hub_id, "OverflowError")
    ]
    return good, poison


def test_the_poison_event_is_set_apart_and_every_other_event_applied(
    engine: Engine, poisoned: tuple[list[CanonicalEvent], CanonicalEvent]
) -> None:
    good, poison = poisoned
    victim = good[0].subjects[0].token
    assert timeline(engine, victim) == {good[0].hub_id, good[1].hub_id}
    assert timeline(engine, OTHER_VICTIM) == {good[2].hub_id}
    family, other = family_id(engine, victim), family_id(engine, OTHER_VICTIM)
    assert unresolved(engine) == [(poison.hub_id, family, "OverflowError", 1)]
    assert failed.needs_attention(engine, family) and not failed.needs_attention(engine, other)
    assert failed.unresolved_count(engine) == 1

    # redelivered (the worker restarted before its offsets were committed): nothing changes
    again = FamilyProjector(engine, load_areas()).process([poison, *good])
    assert again.failures == [] and unresolved(engine) == [
        (poison.hub_id, family, "OverflowError", 1)
    ]
    # later events of the family are applied on top, without the poison event
    later = incident(MONDAY + days(10))
    store_and_link(engine, later)
    assert FamilyProjector(engine, load_areas()).process([later]).failures == []
    assert timeline(engine, victim) == {good[0].hub_id, good[1].hub_id, later.hub_id}


def test_a_poison_event_met_in_a_rebuild_before_its_delivery_fails_once(engine: Engine) -> None:
    # the family is new when its first event arrives, so it is folded from the store, where
    # the poison event stored after it already is; then the poison event itself arrives
    first, poison = incident(MONDAY), incident(YEAR_ONE)
    store_and_link(engine, first, poison)
    projector = FamilyProjector(engine, load_areas())
    assert [f.hub_id for f in projector.process([first]).failures] == [poison.hub_id]
    assert projector.process([poison]).failures == []  # not dead-lettered twice
    [(hub_id, _, _, attempts)] = unresolved(engine)
    assert hub_id == poison.hub_id and attempts == 1
    assert timeline(engine, first.subjects[0].token) == {first.hub_id}


def test_a_replay_completes_sets_the_same_event_apart_and_equals_the_live_state(
    engine: Engine, poisoned: tuple[list[CanonicalEvent], CanonicalEvent]
) -> None:
    _, poison = poisoned
    live = state_digest(engine)
    result = rebuild(engine, load_areas())
    assert result.failed == 1 and result.events == 4
    assert state_digest(engine) == live
    [(hub_id, _, _, attempts)] = unresolved(engine)
    assert hub_id == poison.hub_id and attempts == 2  # the replay tried it again


def test_the_attention_flag_is_part_of_the_digest(
    engine: Engine, poisoned: tuple[list[CanonicalEvent], CanonicalEvent]
) -> None:
    _, poison = poisoned
    live = state_digest(engine)
    with engine.begin() as conn:
        failed.resolve(conn, [poison.hub_id], datetime.now(UTC))
    assert state_digest(engine) != live  # a rebuild that applied it would not be "unchanged"


def test_a_retry_after_the_fix_applies_it_and_clears_the_flag(
    engine: Engine,
    poisoned: tuple[list[CanonicalEvent], CanonicalEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, poison = poisoned
    victim = good[0].subjects[0].token
    family = family_id(engine, victim)
    still = retry(engine, load_areas(), [poison.hub_id])
    assert still.resolved == [] and [f.hub_id for f in still.failing] == [poison.hub_id]
    with engine.connect() as conn:
        [row] = failed.rows(conn)
    assert (row.status, row.attempts) == ("retried", 2)

    original = Calendar.local_date  # the fix: days before the time zone database begins
    monkeypatch.setattr(
        Calendar, "local_date", lambda self, t: t.date() if t.year < 1900 else original(self, t)
    )
    done = retry(engine, load_areas(), None)
    assert done.resolved == [poison.hub_id] and done.failing == []
    assert poison.hub_id in timeline(engine, victim)
    assert not failed.needs_attention(engine, family) and unresolved(engine) == []
    with engine.connect() as conn:
        [row] = failed.rows(conn, everything=True)
    assert row.status == "resolved"
    # and the live state is what a replay (with the fix) builds
    live = state_digest(engine)
    assert rebuild(engine, load_areas()).failed == 0 and state_digest(engine) == live


def test_an_event_the_database_refuses_is_set_apart_too(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused, fine = incident(MONDAY), incident(MONDAY, OTHER_VICTIM, [OTHER_PERP])
    store_and_link(engine, refused, fine)
    real = settle.upsert_alerts_many

    def upsert(conn, families):  # type: ignore[no-untyped-def]
        if any(e.hub_id == refused.hub_id for _, p in families for e in p.timeline):
            raise IntegrityError("INSERT INTO alerts", {}, Exception("TEST refused"))
        return real(conn, families)

    monkeypatch.setattr(settle, "upsert_alerts_many", upsert)
    outcome = FamilyProjector(engine, load_areas()).process([refused, fine])
    assert [(f.hub_id, f.error_type) for f in outcome.failures] == [
        (refused.hub_id, "IntegrityError")
    ]
    assert timeline(engine, OTHER_VICTIM) == {fine.hub_id}
    assert timeline(engine, refused.subjects[0].token) == set()  # the family, without it
