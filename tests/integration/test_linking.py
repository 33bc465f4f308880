"""The person index and families on a real database (no broker): strong identifiers join,
weak matches wait for a person, merges keep the older id and both histories, undoing a match
gives the old families back, and the result never depends on batching, order or repeats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hub.adapters.sql.schema import (
    family_projections,
    family_redirects,
    possible_matches,
    subject_tokens,
)
from hub.domain.areas import load_areas
from hub.domain.events import SubjectRef
from hub.domain.internal import MATCH_CONFIRMED, MATCH_UNDONE, internal_event
from hub.pipeline.projector import family_state_of_token
from hub.pipeline.replay import rebuild, state_digest
from tests import builders as b
from tests.integration.conftest import Api
from tests.processing import process_stored


@pytest.fixture
def api(any_db_api: Api) -> Api:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db_api


def post(api: Api, headers: dict[str, str], *evs: dict[str, Any]) -> None:
    for e in evs:
        r = api.client.post("/v1/events", json=e, headers=headers)
        assert r.status_code == 202, r.text


def process(api: Api, batch: int = 1000, shuffle: int | None = None) -> None:
    process_stored(api.services, batch, shuffle)


def token(api: Api, kind: str, *values: str) -> str:
    return api.services.ingress.tokeniser.token(kind, *values)


def ids_of(api: Api, tok: str) -> tuple[str, str]:
    with api.services.engine.connect() as conn:
        row = conn.execute(
            select(subject_tokens.c.person_id, subject_tokens.c.family_id).where(
                subject_tokens.c.token == tok
            )
        ).one()
    return row.person_id, row.family_id


def person(role: str, name: str = "Alex Example", **ids: str) -> dict[str, Any]:
    return {"role": role, "name": name, "identifiers": ids}


def test_strong_identifiers_named_together_make_one_person(
    api: Api, police: dict[str, str]
) -> None:
    csc = api.key("TEST-CSC-A", "agency_system", "childrens_social_care")
    post(
        api,
        police,
        b.incident(subjects=[person("victim", nhs_number="9990000101"), b.perpetrator()]),
    )
    post(api, police, b.incident(subjects=[
        person("victim", nhs_number="9990000101", local_authority_id="TEST-LA-7"), b.perpetrator()
    ]))  # fmt: skip
    post(api, csc, b._envelope("needs.identified", {
        "subjects": [person("victim", local_authority_id="TEST-LA-7")], "needs": ["housing"]
    }))  # fmt: skip
    process(api)
    nhs, la = token(api, "nhs", "9990000101"), token(api, "la", "TEST-LA-7")
    assert ids_of(api, nhs) == ids_of(api, la)
    family = family_state_of_token(api.services.engine, la)
    assert family is not None and len(family["timeline"]) == 3
    [victim] = [m for m in family["members"].values() if "victim" in m["roles"]]
    assert set(victim["tokens"]) == {nhs, la}


def test_two_families_merge_under_the_older_id_with_both_histories(
    api: Api, police: dict[str, str]
) -> None:
    v1, v2 = person("victim", nhs_number="9990000201"), person("victim", nhs_number="9990000202")
    p1, p2 = b.perpetrator("TEST-PNC-21"), b.perpetrator("TEST-PNC-22")
    post(api, police, b.incident(subjects=[v1, p1], time="2026-01-05T10:00:00Z"))
    post(api, police, b.incident(subjects=[v2, p2], time="2026-01-06T10:00:00Z"))
    process(api)
    old1 = ids_of(api, token(api, "nhs", "9990000201"))[1]
    old2 = ids_of(api, token(api, "nhs", "9990000202"))[1]
    assert old1 != old2
    # the second woman turns out to live with the first: one household, one case (that the
    # first perpetrator abused her too would not join them: two cases linked through him)
    in_household = {**v2, "role": "household_member"}
    post(api, police, b.incident(subjects=[v1, in_household], time="2026-02-01T10:00:00Z"))
    process(api)
    assert ids_of(api, token(api, "nhs", "9990000202"))[1] == old1  # the older id survives
    merged = family_state_of_token(api.services.engine, token(api, "nhs", "9990000202"))
    assert merged is not None and merged["family_id"] == old1 and len(merged["timeline"]) == 3
    with api.services.engine.connect() as conn:
        assert (
            conn.execute(
                select(family_redirects.c.new_id).where(family_redirects.c.old_id == old2)
            ).scalar_one()
            == old1
        )
        assert (
            conn.execute(
                select(family_projections.c.family_id).where(family_projections.c.family_id == old2)
            ).first()
            is None
        )  # the absorbed family's projection is gone, not left stale


def _hub_event(api: Api, event_type: str, match: Any, n: int) -> None:
    subjects = (SubjectRef(match.token_a, "other"), SubjectRef(match.token_b, "other"))
    data = {"match_id": match.match_id, "actor": "test-coord", "actor_role": "marac_coordinator"}
    e = internal_event(event_type, f"test-decision-{n}", b_time(), subjects, data)
    store = api.services.ingress.store
    store.append(e, e.hub_id, api.services.settings.topic("hub.events.v1"))


def b_time() -> datetime:
    return datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_weak_match_waits_for_a_person_and_can_be_undone(api: Api) -> None:
    ae = api.key("TEST-AE-A", "agency_system", "health_ae")
    housing = api.key("TEST-HOUSING-A", "agency_system", "housing")
    seen_at_ae = {
        "role": "victim", "name": "Alex  EXAMPLE", "date_of_birth": "1990-01-01",
        "postcode": "ZZ9 9ZZ", "identifiers": {"agency_ref": "AE-1"},
    }  # fmt: skip
    at_housing = {**seen_at_ae, "name": "alex example", "identifiers": {"agency_ref": "H-9"}}
    post(api, ae, b._envelope("health.attendance", {"subjects": [seen_at_ae], "setting": "ae"}))
    post(
        api,
        housing,
        b._envelope("needs.identified", {"subjects": [at_housing], "needs": ["housing"]}),
    )
    process(api)
    t_ae, t_h = (
        token(api, "agency", "TEST-AE-A", "AE-1"),
        token(api, "agency", "TEST-HOUSING-A", "H-9"),
    )
    before = (ids_of(api, t_ae), ids_of(api, t_h))
    assert before[0] != before[1]  # never merged silently
    with api.services.engine.connect() as conn:
        [match] = conn.execute(select(possible_matches)).all()
    assert match.status == "open" and {match.token_a, match.token_b} == {t_ae, t_h}

    _hub_event(api, MATCH_CONFIRMED, match, 1)
    process(api)
    assert ids_of(api, t_ae) == ids_of(api, t_h)
    joined = family_state_of_token(api.services.engine, t_h)
    assert joined is not None and len(joined["timeline"]) == 3  # both events and the decision

    _hub_event(api, MATCH_UNDONE, match, 2)
    process(api)
    assert (ids_of(api, t_ae), ids_of(api, t_h)) == before  # the old ids come back
    split = family_state_of_token(api.services.engine, t_h)
    assert split is not None and all(
        e["type"] != "health.attendance" for e in split["timeline"]
    )  # projections follow the split


def _stream(api: Api, police: dict[str, str], idva: dict[str, str]) -> None:
    v1, v2 = person("victim", nhs_number="9990000301"), person("victim", nhs_number="9990000302")
    p1 = b.perpetrator("TEST-PNC-31")
    post(api, police, b.incident(subjects=[v1, p1], time="2026-01-02T10:00:00Z"))
    post(api, idva, b.dash(15, subjects=[v1], time="2026-01-03T10:00:00Z"))
    post(
        api,
        police,
        b.incident(subjects=[v2, b.perpetrator("TEST-PNC-32")], time="2026-01-04T10:00:00Z"),
    )
    post(api, police, b.incident(subjects=[v1, p1], time="2026-02-02T10:00:00Z"))
    post(api, police, b.incident(subjects=[v2, p1], time="2026-01-20T10:00:00Z"))
    post(api, idva, b.dash(9, subjects=[v2], time="2025-12-20T10:00:00Z"))
    # three records that may be one person, the earliest-seen one last to give its details
    weak = {"name": "Jo Example", "date_of_birth": "1991-02-03", "postcode": "ZZ1 1ZZ"}
    first = {"role": "victim", "identifiers": {"agency_ref": "IDVA-1"}}
    post(api, idva, b.dash(2, subjects=[first], time="2026-01-05T10:00:00Z"))
    for ref in ("IDVA-2", "IDVA-3"):
        other = {"role": "victim", **weak, "identifiers": {"agency_ref": ref}}
        post(api, idva, b.dash(3, subjects=[other], time="2026-01-06T10:00:00Z"))
    post(api, idva, b.dash(4, subjects=[{**first, **weak}], time="2026-01-07T10:00:00Z"))


def _digest_after(api: Api, batch: int, shuffle: int | None) -> str:
    process(api, batch=batch, shuffle=shuffle)
    return state_digest(api.services.engine)


def test_batching_order_and_repeats_never_change_the_result(
    api: Api, police: dict[str, str], idva: dict[str, str]
) -> None:
    _stream(api, police, idva)
    one_go = _digest_after(api, batch=1000, shuffle=None)
    with api.services.engine.connect() as conn:
        assert len(conn.execute(select(possible_matches)).all()) == 2  # each paired once
    process(api)  # everything again: a redelivery changes nothing
    assert state_digest(api.services.engine) == one_go
    rebuild(api.services.engine, load_areas())
    assert state_digest(api.services.engine) == one_go  # replay == live
    for seed in (1, 2, 3):
        _wipe(api)
        assert _digest_after(api, batch=1, shuffle=seed) == one_go


def _wipe(api: Api) -> None:
    from hub.pipeline.replay import DERIVED

    with api.services.engine.begin() as conn:
        for table in DERIVED:
            conn.execute(table.delete())


def test_a_perpetrator_seen_alone_first_ends_in_each_of_his_victims_cases(
    api: Api, police: dict[str, str]
) -> None:
    """A marker about him before any victim is known; then two women he abused. His first
    family's id moves to his home case, each case holds the marker, and neither the other
    woman's history; one batch, one event at a time in any order, and a replay agree."""
    perp = b.perpetrator("TEST-PNC-41")
    marker = b._envelope("marker.added", {
        "subjects": [{**perp, "role": "perpetrator"}], "marker": "high_risk_perpetrator",
        "since": "2026-01-01",
    }, time="2026-01-01T10:00:00Z")  # fmt: skip
    v1, v2 = person("victim", nhs_number="9990000401"), person("victim", nhs_number="9990000402")
    post(api, police, marker)
    post(api, police, b.incident(subjects=[v1, perp], time="2026-01-02T10:00:00Z"))
    post(api, police, b.incident(subjects=[v2, perp], time="2026-01-03T10:00:00Z"))
    one_go = _digest_after(api, batch=1000, shuffle=None)
    t1, t2, tp = (token(api, "nhs", "9990000401"), token(api, "nhs", "9990000402"),
                  token(api, "pnc", "TEST-PNC-41"))  # fmt: skip
    f1, f2 = ids_of(api, t1)[1], ids_of(api, t2)[1]
    assert f1 != f2 and ids_of(api, tp)[1] == f1  # his home case: the earliest
    with api.services.engine.connect() as conn:
        moved = conn.execute(
            select(family_redirects.c.new_id).where(family_redirects.c.old_id == "f_" + tp[3:])
        ).scalar_one()
        assert moved == f1
        projected = set(conn.execute(select(family_projections.c.family_id)).scalars())
    assert projected == {f1, f2}  # his own first family is gone, not left stale
    for t, other in ((t1, t2), (t2, t1)):
        state = family_state_of_token(api.services.engine, t)
        assert state is not None
        types = sorted(e["type"] for e in state["timeline"])
        assert types == ["marker.added", "police.incident"]
        assert other not in {s["token"] for e in state["timeline"] for s in e["subjects"]}
    rebuild(api.services.engine, load_areas())
    assert state_digest(api.services.engine) == one_go
    for seed in (1, 2):
        _wipe(api)
        assert _digest_after(api, batch=1, shuffle=seed) == one_go
