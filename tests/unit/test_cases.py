"""A family is the victim's case (DOMAIN.md, issue 15): the victim, their children and
household, and their perpetrators. Two victims of one perpetrator are two cases linked through
him, never one family whose view shows each victim the other's history.

The cases are drawn here as the pipeline draws them, without a database: the linker's
grouping (hub.domain.identity), each case's members and attached perpetrators, every event
naming a member routed to the case, and the fold telling the case's own events from links."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection, apply_events, members
from hub.domain.identity import Edge, Grouping, edges_of, family_id, group
from hub.domain.rules import Alert, evaluate
from tests.unit.family_builders import (
    CHILD,
    EX,
    MONDAY,
    PERP,
    PERP_2,
    VICTIM,
    VICTIM_2,
    days,
    event,
    incident,
    relation,
)
from tests.unit.test_rules import AREA

# ids are labelled after the earliest-seen token (ties by token: the child's, in her case)
F_VICTIM, F_VICTIM_2 = family_id(CHILD), family_id(VICTIM_2)


def grouping(events: Sequence[CanonicalEvent]) -> Grouping:
    first_seq: dict[str, int] = {}
    for seq, e in enumerate(events):
        for s in e.subjects:
            first_seq.setdefault(s.token, seq)
    return group(first_seq, [x for e in events for x in edges_of(e)], first_seq)


def cases(events: Sequence[CanonicalEvent]) -> dict[str, FamilyProjection]:
    """Every case folded from the events naming its members, as the projector does."""
    g = grouping(events)
    out = {}
    for fid in sorted({f for t in g.family_of for f in g.cases(t)}):
        tokens = {t for t in g.family_of if fid in g.cases(t)}
        person_of = {t: g.person_of[t] for t in tokens}
        attached = frozenset(t for t in tokens if t in g.cases_of)
        mine = [e for e in events if tokens & {s.token for s in e.subjects}]
        out[fid] = apply_events(FamilyProjection(fid), mine, person_of, attached)
    return out


def alerts_of(p: FamilyProjection, rule: str) -> list[Alert]:
    return [a for a in evaluate(p, AREA, None) if a.rule == rule]


def hub_ids(p: FamilyProjection) -> set[str]:
    return {e.hub_id for e in p.timeline}


def people(p: FamilyProjection) -> set[str]:
    """The tokens of the members the family view shows."""
    return {t for m in members(p).values() for t in m["tokens"]}


# what the police send about one perpetrator and two women he abused, each with her own child
FIRST = incident(MONDAY, victim=VICTIM, children=[CHILD])
SECOND = incident(MONDAY + days(20), victim=VICTIM_2)
# a probation marker naming him alone
MARKED = event(
    "marker.added", MONDAY + days(30), [(PERP, "perpetrator")],
    {"marker": "high_risk_perpetrator", "since": "2026-04-01"},
)  # fmt: skip
AGAIN = incident(MONDAY + days(40), victim=VICTIM)


def test_two_victims_of_one_perpetrator_are_two_cases_linked_through_him() -> None:
    g = grouping([FIRST, SECOND])
    assert g.family_of[VICTIM] == g.family_of[CHILD] == F_VICTIM
    assert g.family_of[VICTIM_2] == F_VICTIM_2
    assert g.cases(PERP) == (F_VICTIM, F_VICTIM_2)  # his home case is the earliest
    assert g.family_of[PERP] == F_VICTIM


def test_each_case_holds_its_victims_history_and_the_events_about_him_alone() -> None:
    found = cases([FIRST, SECOND, MARKED, AGAIN])
    assert set(found) == {F_VICTIM, F_VICTIM_2}
    first, second = found[F_VICTIM], found[F_VICTIM_2]
    assert hub_ids(first) == {FIRST.hub_id, MARKED.hub_id, AGAIN.hub_id}
    assert hub_ids(second) == {SECOND.hub_id, MARKED.hub_id}  # his marker: in both
    assert people(first) == {VICTIM, CHILD, PERP}  # nobody of the other case
    assert people(second) == {VICTIM_2, PERP}
    # the other case's events are kept apart, as links, for the rules that look across
    assert {e.hub_id for e in first.links} == {SECOND.hub_id}
    assert {e.hub_id for e in second.links} == {FIRST.hub_id, AGAIN.hub_id}
    assert FamilyProjection.from_dict(first.to_dict()) == first  # links survive storage


def test_the_serial_perpetrator_alert_names_both_cases_in_each() -> None:
    found = cases([FIRST, SECOND])
    [in_first] = alerts_of(found[F_VICTIM], "serial_perpetrator")
    [in_second] = alerts_of(found[F_VICTIM_2], "serial_perpetrator")
    for a in (in_first, in_second):
        assert {VICTIM, VICTIM_2, PERP} <= set(a.subject_tokens)  # both victims, so both cases
        assert set(a.triggering_event_ids) == {FIRST.hub_id, SECOND.hub_id}
        assert "1 of them in other cases linked through him" in a.reason
    assert (in_first.family_id, in_second.family_id) == (F_VICTIM, F_VICTIM_2)
    assert in_first.alert_id != in_second.alert_id  # one alert per case, never shared
    # the rules about a victim run in her own case only
    assert {a.victim_token for a in evaluate(found[F_VICTIM], AREA, None)} <= {VICTIM, ""}


def test_one_victim_with_two_perpetrators_is_one_case() -> None:
    later = incident(MONDAY + days(3), victim=VICTIM, perps=[PERP_2])
    g = grouping([FIRST, later])
    assert {f for t in (VICTIM, PERP, PERP_2, CHILD) for f in g.cases(t)} == {F_VICTIM}
    [case] = cases([FIRST, later]).values()
    assert hub_ids(case) == {FIRST.hub_id, later.hub_id} and not case.links
    assert alerts_of(case, "serial_perpetrator") == []  # one victim each


def test_his_relations_do_not_join_his_victims_either() -> None:
    # the genogram names him as one's ex-partner and the other's partner, and as a child's
    # father: none of it joins the two women's cases
    stated = [
        FIRST, SECOND,
        relation(MONDAY + days(1), VICTIM, PERP, "ex_partner"),
        relation(MONDAY + days(2), VICTIM_2, PERP, "partner"),
        relation(MONDAY + days(3), PERP, CHILD, "parent_child"),
    ]  # fmt: skip
    g = grouping(stated)
    assert g.family_of[VICTIM] != g.family_of[VICTIM_2]
    assert g.cases(PERP) == (F_VICTIM, F_VICTIM_2)
    assert g.family_of[CHILD] == F_VICTIM  # the child stays in his mother's case


def test_people_named_each_way_stay_one_case() -> None:
    # counter-allegations: each named as the other's perpetrator, with their child
    back = incident(MONDAY + days(1), victim=PERP, perps=[VICTIM])
    g = grouping([FIRST, back])
    assert g.family_of[VICTIM] == g.family_of[PERP] == g.family_of[CHILD]
    assert not g.cases_of


def test_a_household_still_joins_into_one_case() -> None:
    # an ex-partner of the victim named as household (not as a perpetrator) joins her case
    g = grouping([FIRST, relation(MONDAY + days(1), VICTIM, EX, "household")])
    assert g.family_of[EX] == g.family_of[VICTIM] == F_VICTIM


EDGES = [
    Edge.perpetrator_of(PERP, VICTIM, "e1"),
    Edge.perpetrator_of(PERP, VICTIM_2, "e2"),
    Edge.between(VICTIM, CHILD, "household", "e1"),
    Edge.between(PERP, "st_testperp_sam_sample_la", "same_person", "e3"),
    Edge.perpetrator_of("st_testperp_sam_sample_la", "st_testvictim_third", "e3"),
    Edge.between(VICTIM_2, EX, "partner", "e4"),
]
TOKENS = sorted({t for x in EDGES for t in (x.a, x.b)})


@given(st.permutations(EDGES), st.permutations(range(len(TOKENS))))
def test_cases_are_a_function_of_the_edges_alone(edges: list[Edge], order: list[int]) -> None:
    """Whatever order edges arrive in (batching), the same cases; ids follow first sight."""
    first_seq = dict(zip(TOKENS, order, strict=True))
    g = group(TOKENS, edges, first_seq)
    again = group(reversed(TOKENS), list(reversed(edges)), first_seq)
    assert (g.family_of, g.cases_of, g.person_of) == (
        again.family_of, again.cases_of, again.person_of,
    )  # fmt: skip
    his = g.cases(PERP)
    assert len(his) == 3 and g.cases("st_testperp_sam_sample_la") == his  # one person
    assert g.family_of[PERP] == his[0]
    assert g.family_of[VICTIM] == g.family_of[CHILD] != g.family_of[VICTIM_2]
    assert g.family_of[EX] == g.family_of[VICTIM_2]
