"""Replay in several processes equals replay in one (issue 16).

`hub replay --jobs N` links in store order in one process and folds families in N forked
ones. On a store with a merge, a match confirmed then undone (a split), a poison event and a
perpetrator of two victims, the read models, alerts (ids, content, revisions), events set
apart and the state digest are those of the replay in one process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from hub.adapters.sql import failed
from hub.adapters.sql.schema import (
    alerts,
    case_members,
    family_projections,
    family_redirects,
    possible_matches,
)
from hub.domain.areas import AreaBook, load_areas
from hub.domain.events import SubjectRef
from hub.domain.internal import MATCH_CONFIRMED, MATCH_UNDONE, clock_tick, internal_event
from hub.pipeline import replay_fold
from hub.pipeline.replay import ReplayResult, rebuild, state_digest
from tests import builders as b
from tests.integration.conftest import Api
from tests.integration.test_linking import post
from tests.processing import process_stored
from tests.unit.family_builders import MONDAY, days
from tests.unit.family_builders import incident as canonical_incident
from tests.unit.family_builders import referral as canonical_referral

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)  # the rules cannot turn it into a local date
POISONED_VICTIM = "st_testvictim_poison_example"
UNCONTACTED_VICTIM = "st_testvictim_casey_placeholder"


@pytest.fixture
def api(any_db_api: Api) -> Api:
    """SQLite, and PostgreSQL when HUB_TEST_POSTGRES_URL is set."""
    return any_db_api


def person(role: str, name: str = "Alex Example", **ids: str) -> dict[str, Any]:
    return {"role": role, "name": name, "identifiers": ids}


def decide(api: Api, event_type: str, n: int) -> None:
    """A coordinator's decision on the one possible match, stored as the hub stores it."""
    with api.services.engine.connect() as conn:
        [match] = conn.execute(select(possible_matches)).all()
    subjects = (SubjectRef(match.token_a, "other"), SubjectRef(match.token_b, "other"))
    data = {"match_id": match.match_id, "actor": "test-coord", "actor_role": "marac_coordinator"}
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    e = internal_event(event_type, f"test-decision-{n}", at, subjects, data)
    api.services.ingress.store.append(e, e.hub_id, api.services.settings.topic("hub.events.v1"))
    process_stored(api.services)


def build_store(api: Api) -> None:
    police = api.key("TEST-POLICE-A", "agency_system", "police")
    idva = api.key("TEST-IDVA-A", "agency_system", "idva")
    ae = api.key("TEST-AE-A", "agency_system", "health_ae")
    housing = api.key("TEST-HOUSING-A", "agency_system", "housing")
    # a merge: the second woman turns out to live with the first
    v1, v2 = person("victim", nhs_number="9990000501"), person("victim", nhs_number="9990000502")
    p1, p2 = b.perpetrator("TEST-PNC-51"), b.perpetrator("TEST-PNC-52")
    post(api, police, b.incident(subjects=[v1, p1], time="2026-01-05T10:00:00Z"))
    post(api, police, b.incident(subjects=[v2, p2], time="2026-01-06T10:00:00Z"))
    in_household = {**v2, "role": "household_member"}
    post(api, police, b.incident(subjects=[v1, in_household], time="2026-02-01T10:00:00Z"))
    # two victims of one perpetrator, with risk assessments that raise alerts
    v3, v4 = person("victim", nhs_number="9990000503"), person("victim", nhs_number="9990000504")
    p3 = b.perpetrator("TEST-PNC-53")
    for n, v in enumerate((v3, v4)):
        post(api, police, b.incident(subjects=[v, p3], time=f"2026-01-1{n}T10:00:00Z"))
        post(api, idva, b.dash(15, subjects=[v], time=f"2026-01-2{n}T10:00:00Z"))
        post(api, police, b.incident(subjects=[v, p3], time=f"2026-02-0{n + 1}T10:00:00Z"))
    # a weak match confirmed, then undone: the families split again
    seen = {"role": "victim", "name": "Jo Example", "date_of_birth": "1990-01-01",
            "postcode": "ZZ9 9ZZ", "identifiers": {"agency_ref": "AE-5"}}  # fmt: skip
    post(api, ae, b._envelope("health.attendance", {"subjects": [seen], "setting": "ae"}))
    at_housing = {**seen, "identifiers": {"agency_ref": "H-5"}}
    needs = {"subjects": [at_housing], "needs": ["housing"]}
    post(api, housing, b._envelope("needs.identified", needs))
    process_stored(api.services)
    decide(api, MATCH_CONFIRMED, 1)
    decide(api, MATCH_UNDONE, 2)
    # a poison event (stored before ingress refused such times) among its family's good ones;
    # an Idva referral nobody acts on, then the clock passes its first-contact deadline
    store = api.services.ingress.store
    for e in (
        canonical_incident(MONDAY, POISONED_VICTIM),
        canonical_incident(YEAR_ONE, POISONED_VICTIM),
        canonical_incident(MONDAY + days(5), POISONED_VICTIM),
        canonical_referral(MONDAY, to="community_idva", victim=UNCONTACTED_VICTIM),
        clock_tick(MONDAY + days(14)),
    ):
        store.append(e, hashlib.sha256(e.to_json().encode()).hexdigest(), "hub.events.v1")
    process_stored(api.services)


def alert_rows(engine: Engine) -> list[Any]:
    """Every alert column but when it was raised and updated (wall-clock moments)."""
    cols = [c for c in alerts.c if c.name not in {"raised_at", "updated_at"}]
    with engine.connect() as conn:
        return list(conn.execute(select(*cols).order_by(alerts.c.alert_id)).all())


def fold_pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Record, in a file, the process that folds each family (forked processes inherit it)."""
    log = tmp_path / "fold-pids"
    real = replay_fold.fold_family

    def recorded(family: replay_fold.Family, areas: AreaBook, clock: Any) -> Any:
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(family, areas, clock)

    monkeypatch.setattr(replay_fold, "fold_family", recorded)
    monkeypatch.setattr(replay_fold, "CHUNK_EVENTS", 3)  # many chunks from a small store
    return log


def test_replay_in_several_processes_equals_replay_in_one(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_store(api)
    engine = api.services.engine
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(family_redirects)).scalar_one() > 0
        [match_status] = conn.execute(select(possible_matches.c.status)).scalars()
        attached = conn.execute(select(case_members.c.token, case_members.c.family_id)).all()
    assert match_status != "confirmed"  # undone: the split families are apart again
    assert len({fid for _, fid in attached}) >= 2  # his cases: one per victim
    live = state_digest(engine)

    log = fold_pids(tmp_path, monkeypatch)
    parallel = rebuild(engine, load_areas(), jobs=2)
    folded_by = log.read_text().split()
    parallel_digest, parallel_alerts = state_digest(engine), alert_rows(engine)
    with engine.connect() as conn:
        parallel_failed = [(r.hub_id, r.family_id, r.error_type) for r in failed.rows(conn)]
        families = conn.execute(select(func.count()).select_from(family_projections)).scalar_one()
    assert len(folded_by) == families  # every family folded once, none in this process
    assert folded_by and os.getpid() not in set(map(int, folded_by))

    log.unlink()
    single = rebuild(engine, load_areas(), jobs=1)
    assert set(map(int, log.read_text().split())) == {os.getpid()}
    with engine.connect() as conn:
        single_failed = [(r.hub_id, r.family_id, r.error_type) for r in failed.rows(conn)]

    assert counts(parallel) == counts(single) and single.failed == 1 and single.alerts > 0
    assert "first_contact_overdue" in {row.rule for row in parallel_alerts}  # the clock counts
    assert parallel_failed == single_failed and len(single_failed) == 1  # the poison event
    assert parallel_alerts == alert_rows(engine)  # same ids, content and revisions
    assert parallel_digest == state_digest(engine) == live


def counts(r: ReplayResult) -> tuple[int, int, int, int]:
    return r.events, r.families, r.alerts, r.failed


def test_a_fold_process_that_dies_ends_the_replay_and_keeps_the_old_state(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_store(api)
    engine = api.services.engine
    before = state_digest(engine)
    parent = os.getpid()
    real = replay_fold.fold_family

    def killed(family: replay_fold.Family, areas: AreaBook, clock: Any) -> Any:
        if os.getpid() != parent:  # as the kernel ends a process out of memory
            os._exit(9)
        return real(family, areas, clock)

    monkeypatch.setattr(replay_fold, "fold_family", killed)
    with pytest.raises(BrokenProcessPool):  # not a replay waiting for ever, its transaction open
        rebuild(engine, load_areas(), jobs=2)
    assert state_digest(engine) == before  # rolled back: readers never saw a half replay
