"""The family projection: an order-independent, idempotent fold, and the views derived from it."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.events import CanonicalEvent
from hub.domain.family import (
    FamilyProjection,
    alert_status,
    apply_event,
    count,
    current_risk,
    marac_cycle,
    members,
    open_actions,
    relations,
    select,
    shown_status,
)
from hub.domain.internal import (
    ALERT_ACKNOWLEDGED,
    ALERT_AGENDA_ADDED,
    ALERT_DISMISSED,
    clock_tick,
)
from tests.unit.family_builders import (
    CHILD,
    EX,
    IDVA,
    MONDAY,
    PERP,
    VICTIM,
    VICTIM_2,
    attendance,
    closed,
    contact,
    dash,
    days,
    decision,
    fold,
    hearing,
    incident,
    marker,
    needs,
    referral,
    relation,
)

POOL: list[CanonicalEvent] = [
    incident(MONDAY, children=(CHILD,), children_present=True),
    attendance(MONDAY + days(3)),
    dash(12, MONDAY + days(4)),
    dash(15, MONDAY + days(4)),  # same time as the one above: ties broken by hub id
    referral(MONDAY + days(5), to="marac", pj=True),
    contact(MONDAY + days(6), "no_answer"),
    needs(MONDAY + days(7), "mental_health", "housing"),
    hearing(MONDAY + days(20)),
    relation(MONDAY + days(21), VICTIM, CHILD, "parent_child"),
    relation(MONDAY + days(21), EX, VICTIM, "ex_partner"),
    marker(MONDAY + days(22)),
    marker(MONDAY + days(30), removed=True),
    closed(MONDAY + days(31)),
    incident(MONDAY + days(40), victim=VICTIM_2),
    decision(ALERT_ACKNOWLEDGED, "TEST-ALERT-1", MONDAY + days(41)),
    decision(ALERT_DISMISSED, "TEST-ALERT-1", MONDAY + days(42), reason="heard already"),
    clock_tick(MONDAY + days(50)),
    clock_tick(MONDAY + days(45)),
]


def state(p: FamilyProjection) -> str:
    return json.dumps(p.to_dict(), sort_keys=True)


@given(st.permutations(POOL), st.lists(st.sampled_from(POOL), max_size=6))
def test_state_depends_only_on_the_set_of_events(
    order: list[CanonicalEvent], again: list[CanonicalEvent]
) -> None:
    one_by_one = FamilyProjection("TEST-FAMILY-1")
    for e in [*order, *again]:  # redelivered events are ignored
        one_by_one = apply_event(one_by_one, e, {})
    assert state(one_by_one) == state(fold(POOL))


@given(st.permutations(POOL), st.integers(0, len(POOL)))
def test_batches_and_single_events_agree(order: list[CanonicalEvent], cut: int) -> None:
    p = fold(order[:cut])
    for e in order[cut:]:
        p = apply_event(p, e, {})
    assert state(p) == state(fold(POOL))


def test_an_event_applied_twice_changes_nothing() -> None:
    p = fold(POOL)
    assert apply_event(p, POOL[0], {}) is p


def test_the_timeline_is_in_event_time_order_and_ticks_are_not_in_it() -> None:
    p = fold(reversed(POOL))
    keys = [e.key for e in p.timeline]
    assert keys == sorted(keys)
    assert all(e.type != "hub.clock.ticked" for e in p.timeline)
    assert p.clock == MONDAY + days(50)


def test_json_round_trip() -> None:
    p = fold(POOL)
    back = FamilyProjection.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p
    assert state(back) == state(p)


def test_sealed_fields_never_enter_the_projection() -> None:
    text = state(fold(POOL))
    assert "$enc" not in text and "TEST-CIPHERTEXT" not in text
    [pj] = [e for e in fold(POOL).timeline if e.type == "referral.made"]
    assert pj.facts["concern_stated"] is True
    assert "answers" not in next(e for e in fold(POOL).timeline if e.type == "risk.dash").facts


def test_tokens_of_one_person_are_one_member() -> None:
    other_token = "st_testvictim_alex_example_gp"
    p = fold(
        [incident(MONDAY), needs(MONDAY + days(1), "housing", person=other_token)],
        {other_token: VICTIM},
    )
    m = members(p)
    assert m[VICTIM]["tokens"] == sorted([VICTIM, other_token])
    assert m[VICTIM]["first"] == MONDAY.isoformat()
    assert m[VICTIM]["last"] == (MONDAY + days(1)).isoformat()
    assert set(m) == {VICTIM, PERP}


def test_relations_draw_a_genogram_with_previous_partners_and_children() -> None:
    kinds = {(r["a"], r["b"], r["kind"]) for r in relations(fold(POOL))}
    assert (VICTIM, PERP, "victim_perpetrator") in kinds
    assert (VICTIM, CHILD, "household") in kinds
    assert (VICTIM, CHILD, "parent_child") in kinds  # the parent first
    assert (EX, VICTIM, "ex_partner") in kinds  # symmetric kinds sorted
    assert (VICTIM_2, PERP, "victim_perpetrator") in kinds
    vp = next(
        r for r in relations(fold(POOL)) if r["kind"] == "victim_perpetrator" and r["a"] == VICTIM
    )
    assert vp["first"] == MONDAY.isoformat() and len(vp["event_ids"]) >= 3


def test_current_risk_is_the_latest_by_time_then_id() -> None:
    later = dash(8, MONDAY + days(10))
    p = fold([later, *POOL])  # applied first, still the latest by time
    risk = current_risk(p)[VICTIM]
    assert risk["dash"]["score"] == 8
    assert risk["professional_judgement"] is False  # the pj referral came before the hearing
    assert risk["marac"]["status"] == "heard"
    assert risk["marac"]["date"] == (MONDAY + days(20)).date().isoformat()
    assert (
        current_risk(fold([referral(MONDAY, to="marac", pj=True)]))[VICTIM]["marac"]["status"]
        == "referred"
    )
    assert current_risk(fold([referral(MONDAY, to="marac", pj=True)]))[VICTIM][
        "professional_judgement"
    ]


def test_markers_needs_and_agencies() -> None:
    d = fold(POOL).to_dict()
    [gp_marker] = d["markers"][VICTIM]
    assert gp_marker["marker"] == "da_victim" and gp_marker["present"] is False
    assert d["needs"][VICTIM]["mental_health"]["count"] == 1
    agencies = {a["agency_id"]: a for a in d["agencies"]}
    assert "hub" not in agencies
    assert agencies["TEST-IDVA-A"]["events"] == 4  # two Dashes, a contact, a closure
    assert agencies["TEST-POLICE-A"]["first"] == MONDAY.isoformat()


def test_marac_history_and_open_actions() -> None:
    p = fold(POOL)
    assert [h["area"] for h in p.to_dict()["marac"]["hearings"]] == ["TEST-AREA"]
    # the Idva closed its case after the hearing: closing a case is not doing its action
    # (issue 15), so both actions stay open until their owners say otherwise
    assert {a["owner_agency"] for a in open_actions(p)} == {IDVA[0], "TEST-POLICE-A"}


def test_marac_cycle_is_the_latest_hearing_at_or_before_a_time() -> None:
    h = hearing(MONDAY + days(20))
    p = fold(POOL)
    assert marac_cycle(p, VICTIM, MONDAY) == "none"
    assert marac_cycle(p, VICTIM, MONDAY + days(20)) == h.hub_id


def test_rolling_window_counts_are_inclusive_at_both_ends() -> None:
    p = fold(POOL)
    types = {"police.incident", "health.attendance"}
    assert count(p, types, VICTIM, MONDAY, MONDAY + days(3)) == 2
    assert count(p, types, VICTIM, MONDAY + timedelta(seconds=1), MONDAY + days(3)) == 1
    assert count(p, types, VICTIM_2) == 1
    assert [e.type for e in select(p, {"hub.alert.dismissed"})] == []  # hub events excluded


def test_alert_lifecycle_the_latest_decision_wins() -> None:
    p = fold(POOL)
    s = alert_status(p)["TEST-ALERT-1"]
    assert (s.status, s.by, s.role, s.reason) == (
        "dismissed",
        "TEST-CHAIR-A",
        "marac_chair",
        "heard already",
    )
    assert shown_status(p, "TEST-ALERT-2", ()) == "new"
    agenda = decision(
        ALERT_AGENDA_ADDED, "TEST-ALERT-2", MONDAY + days(43), meeting_date="2026-05-01"
    )
    assert alert_status(fold([*POOL, agenda]))["TEST-ALERT-2"].meeting_date == "2026-05-01"


def test_a_dismissed_alert_reopens_when_a_trigger_arrives_after_the_dismissal() -> None:
    dismissed_at = MONDAY + days(42)
    old = incident(MONDAY + days(1))
    late = incident(MONDAY + days(2))  # recorded 5 minutes after its time
    arriving_later = attendance(MONDAY + days(3))
    arriving_later = CanonicalEvent(
        **{**vars(arriving_later), "recorded_at": dismissed_at + days(1)}
    )
    p = fold([old, late, arriving_later, decision(ALERT_DISMISSED, "TEST-ALERT-9", dismissed_at)])
    state9 = alert_status(p)["TEST-ALERT-9"]
    assert state9.effective([old.hub_id, late.hub_id]) == "dismissed"
    assert state9.effective([old.hub_id, arriving_later.hub_id]) == "reopened"
    ack = fold([old, arriving_later, decision(ALERT_ACKNOWLEDGED, "TEST-ALERT-9", dismissed_at)])
    assert alert_status(ack)["TEST-ALERT-9"].effective([arriving_later.hub_id]) == "acknowledged"
