"""The repeat report and the weekly central list, over hand-built projections of obviously
fake families (tests/unit/family_builders.py)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.areas import AreaBook, AreaSettings
from hub.domain.events import CanonicalEvent
from hub.domain.reports import ReportError, Week, central_list, repeat_report
from tests.unit.family_builders import (
    CHILD,
    EX,
    MONDAY,
    PERP,
    PERP_2,
    VICTIM,
    VICTIM_2,
    attendance,
    dash,
    days,
    event,
    fold,
    hearing,
    incident,
    referral,
)

AREA = "TEST-AREA"
OTHER = "TEST-AREA-OTHER"
BOOK = AreaBook(
    AreaSettings(), {AREA: AreaSettings(name=AREA, agencies=("TEST-POLICE-A", "TEST-IDVA-A"))}
)
WEEK = Week.parse("2026-W10")  # Monday 2026-03-02 (MONDAY) to Sunday 2026-03-08


# --- repeat report ---------------------------------------------------------------------------


def test_victims_by_linked_perpetrators_and_perpetrators_by_linked_victims() -> None:
    family = fold(
        [
            incident(MONDAY, VICTIM, [PERP]),
            incident(MONDAY + days(1), VICTIM, [PERP]),
            incident(MONDAY + days(2), VICTIM, [PERP_2]),
            incident(MONDAY + days(3), VICTIM_2, [PERP]),
        ]
    )
    report = repeat_report([family])
    [alex] = report.victims
    assert alex.person_id == VICTIM
    assert [(x.person_id, x.events) for x in alex.linked] == [(PERP, 2), (PERP_2, 1)]
    [sam] = report.perpetrators
    assert sam.person_id == PERP and [x.person_id for x in sam.linked] == [VICTIM, VICTIM_2]
    assert report.victims_by_count == {2: 1, 1: 1}  # Alex 2 perpetrators, Jo 1
    assert report.perpetrators_by_count == {2: 1, 1: 1}
    everyone = repeat_report([family], min_links=1)
    assert [r.person_id for r in everyone.victims] == [VICTIM, VICTIM_2]


def test_links_are_counted_across_families_once_per_event() -> None:
    # Two families whose projections both hold the incident naming Sam with Jo (a family
    # read before a rebuild): the same event is counted once.
    shared = incident(MONDAY + days(3), VICTIM_2, [PERP])
    one = fold([incident(MONDAY, VICTIM, [PERP]), shared], family_id="TEST-FAMILY-1")
    two = fold([shared], family_id="TEST-FAMILY-2")
    [sam] = repeat_report([one, two]).perpetrators
    assert [(x.person_id, x.events) for x in sam.linked] == [(VICTIM, 1), (VICTIM_2, 1)]
    assert {x.family_id for x in sam.linked} == {"TEST-FAMILY-1"}


def test_persons_joined_by_the_person_index_count_once() -> None:
    # Two tokens of one perpetrator (joined by the person index) are one person.
    family = fold(
        [incident(MONDAY, VICTIM, [PERP]), incident(MONDAY + days(1), VICTIM_2, [EX])],
        person_of={EX: PERP},
    )
    [sam] = repeat_report([family]).perpetrators
    assert sam.person_id == PERP and len(sam.linked) == 2


def test_the_repeat_report_as_of_a_time_leaves_later_events_out() -> None:
    family = fold([incident(MONDAY, VICTIM, [PERP]), incident(MONDAY + days(9), VICTIM, [PERP_2])])
    assert repeat_report([family], as_of=MONDAY + days(9)).victims == ()
    assert len(repeat_report([family], as_of=MONDAY + days(10)).victims) == 1
    with pytest.raises(ReportError):
        repeat_report([family], min_links=0)


# --- weeks -----------------------------------------------------------------------------------


def test_weeks_are_iso_weeks_or_the_week_of_a_date() -> None:
    assert Week.parse("2026-W10").monday == date(2026, 3, 2)
    assert Week.parse("2026-w10") == Week.parse("2026-03-08") == Week.of(date(2026, 3, 4))
    assert Week.parse("2026-03-04").name == "2026-W10"
    for bad in ("2026-W54", "last week", "2026-13-01"):
        with pytest.raises(ReportError, match="ISO week"):
            Week.parse(bad)


def test_a_week_runs_monday_to_monday_in_the_area_s_time_zone() -> None:
    start, end = Week.parse("2026-W27").bounds(AreaSettings())  # summer: London is UTC+1
    assert start == datetime(2026, 6, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 7, 5, 23, 0, tzinfo=UTC)
    start, end = WEEK.bounds(AreaSettings())
    assert (start, end) == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


# --- central list: victims -------------------------------------------------------------------


def heard_in(area: str, at: datetime, victim: str = VICTIM, perp: str = PERP) -> CanonicalEvent:
    return hearing(at, victim, [perp], area=area)


def test_a_visibly_high_risk_victim_ranks_above_repeated_lower_risk_incidents() -> None:
    alex = fold([dash(16, MONDAY - days(20), VICTIM, perps=[PERP])], family_id="TEST-FAMILY-A")
    jo = fold(
        [
            incident(MONDAY - days(60), VICTIM_2, [PERP_2]),
            incident(MONDAY - days(30), VICTIM_2, [PERP_2]),
            dash(8, MONDAY - days(29), VICTIM_2, perps=[PERP_2]),
        ],
        family_id="TEST-FAMILY-J",
    )
    result = central_list([jo, alex], BOOK, AREA, WEEK)
    assert [r.person_id for r in result.victims] == [VICTIM, VICTIM_2]
    top = result.victims[0]
    assert top.rank == 1 and top.points == 26  # Dash 16 + high risk 10
    assert {f.name: f.points for f in top.factors} == {"dash": 16, "high_risk": 10}
    second = {f.name: f.points for f in result.victims[1].factors}
    assert second == {"dash": 8, "abuse_events": 6}
    assert "TEST-POLICE-A 2026-01-31" in result.victims[1].factors[1].detail
    assert result.families == 2


def test_every_victim_factor_counts_and_is_explained() -> None:
    events = [
        hearing(MONDAY - days(100), VICTIM, [PERP], area=AREA),
        incident(MONDAY - days(10), VICTIM, [PERP], [CHILD], children_present=True,
                 weapon="firearm", injuries=True),
        attendance(MONDAY + days(1), VICTIM),
        dash(12, MONDAY + days(2), VICTIM, pj=True),
        referral(MONDAY - days(5), to="marac", pj=True),
    ]  # fmt: skip
    [row] = central_list([fold(events)], BOOK, AREA, WEEK).victims
    assert {f.name: f.points for f in row.factors} == {
        "dash": 12,
        "professional_judgement": 10,
        "abuse_events": 6,
        "firearm": 10,
        "injury": 3,
        "children": 5,
        "repeat_marac": 8,
    }
    assert row.points == 54
    assert row.new_this_week  # the attendance on Tuesday of the week
    assert row.latest == MONDAY + days(1)
    repeat = next(f for f in row.factors if f.name == "repeat_marac")
    assert "since the hearing of 2025-11-22" in repeat.detail


def test_events_after_the_week_are_left_out() -> None:
    family = fold([incident(MONDAY - days(3), VICTIM), dash(20, MONDAY + days(7), VICTIM)])
    [row] = central_list([family], BOOK, AREA, WEEK).victims
    assert {f.name for f in row.factors} == {"abuse_events"}
    assert not row.new_this_week
    [later] = central_list([family], BOOK, AREA, Week.parse("2026-W11")).victims
    assert later.points == 3 + 20 + 10


def test_the_window_counts_back_from_the_week_s_sunday_both_ends_inclusive() -> None:
    sunday = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    inside = fold([incident(sunday - days(365), VICTIM)], family_id="TEST-FAMILY-IN")
    outside = fold([incident(sunday - days(366), VICTIM_2, [PERP_2])], family_id="TEST-FAMILY-OUT")
    result = central_list([inside, outside], BOOK, AREA, WEEK)
    assert [r.person_id for r in result.victims] == [VICTIM]
    assert [r.person_id for r in result.perpetrators] == [PERP]


def test_families_are_listed_in_their_own_area_only() -> None:
    here = fold([incident(MONDAY - days(3), VICTIM)], family_id="TEST-FAMILY-HERE")  # area's police
    there = fold(
        [
            incident(MONDAY - days(4), VICTIM_2, [PERP_2]),
            heard_in(OTHER, MONDAY - days(2), VICTIM_2, PERP_2),
        ],
        family_id="TEST-FAMILY-THERE",
    )
    assert [r.family_id for r in central_list([here, there], BOOK, AREA, WEEK).victims] == [
        "TEST-FAMILY-HERE"
    ]
    other = central_list([here, there], BOOK, OTHER, WEEK)
    assert [r.family_id for r in other.victims] == ["TEST-FAMILY-THERE"]
    assert other.area == OTHER


def test_only_the_top_n_are_listed_and_ties_go_to_the_more_recent() -> None:
    families = [
        fold([incident(MONDAY - days(n), f"st_testvictim_{n:02d}", [f"st_testperp_{n:02d}"])],
             family_id=f"TEST-FAMILY-{n:02d}")
        for n in range(1, 8)
    ]  # fmt: skip
    result = central_list(families, BOOK, AREA, WEEK, top=3)
    assert [r.person_id for r in result.victims] == [
        "st_testvictim_01", "st_testvictim_02", "st_testvictim_03",
    ]  # fmt: skip
    assert [r.rank for r in result.victims] == [1, 2, 3]
    with pytest.raises(ReportError):
        central_list(families, BOOK, AREA, WEEK, top=0)


# --- central list: perpetrators --------------------------------------------------------------


def firearm_marker(at: datetime, person: str) -> CanonicalEvent:
    body = {"marker": "firearm", "since": at.date().isoformat()}
    return event("marker.added", at, [(person, "perpetrator")], body)


def test_a_serial_perpetrator_with_breaches_and_a_firearm_ranks_first() -> None:
    sam = fold(
        [
            incident(MONDAY - days(40), VICTIM, [PERP], breach_of_order=True),
            incident(MONDAY - days(20), VICTIM_2, [PERP], weapon="weapon", breach_of_order=True),
            dash(15, MONDAY - days(19), VICTIM_2, perps=[PERP]),
        ],
        family_id="TEST-FAMILY-SAM",
    )
    max_ = fold(
        [
            incident(MONDAY - days(3), "st_testvictim_other", [PERP_2], [CHILD],
                     children_present=True),
            firearm_marker(MONDAY - days(30), PERP_2),
        ],
        family_id="TEST-FAMILY-MAX",
    )  # fmt: skip
    result = central_list([max_, sam], BOOK, AREA, WEEK)
    assert [r.person_id for r in result.perpetrators] == [PERP, PERP_2]
    first = {f.name: f.points for f in result.perpetrators[0].factors}
    assert first == {
        "linked_victims": 10, "incidents": 6, "weapon": 5, "breaches": 10, "victim_high_risk": 5,
    }  # fmt: skip
    second = {f.name: f.points for f in result.perpetrators[1].factors}
    assert second == {"incidents": 3, "firearm": 10, "children": 3}
    assert "firearm marker present (TEST-POLICE-A)" in result.perpetrators[1].factors[1].detail


def test_a_perpetrator_without_abuse_in_the_window_is_not_listed() -> None:
    family = fold([incident(MONDAY - days(400), VICTIM, [PERP]), dash(18, MONDAY, VICTIM)])
    result = central_list([family], BOOK, AREA, WEEK)
    assert result.perpetrators == ()
    assert [r.person_id for r in result.victims] == [VICTIM]  # her Dash is recent


@given(st.randoms(use_true_random=False))
def test_the_list_does_not_depend_on_the_order_families_are_read(rnd: random.Random) -> None:
    families = [
        fold([incident(MONDAY - days(n % 5), f"st_testvictim_{n:02d}", [PERP if n % 2 else PERP_2]),
              dash(n, MONDAY - days(1), f"st_testvictim_{n:02d}")],
             family_id=f"TEST-FAMILY-{n:02d}")
        for n in range(1, 12)
    ]  # fmt: skip
    expected = central_list(families, BOOK, AREA, WEEK).to_dict()
    rnd.shuffle(families)
    assert central_list(families, BOOK, AREA, WEEK).to_dict() == expected


def test_to_dict_is_json_safe() -> None:
    import json

    family = fold([incident(MONDAY, VICTIM, [PERP]), incident(MONDAY, VICTIM, [PERP_2])])
    json.dumps(central_list([family], BOOK, AREA, WEEK).to_dict())
    json.dumps(repeat_report([family]).to_dict())


def test_a_perpetrator_is_ranked_on_all_his_cases_together() -> None:
    # two victims of one perpetrator are two cases (issue 15); the list still sees both
    first = fold([incident(MONDAY - days(40), VICTIM, [PERP])], family_id="TEST-FAMILY-ONE")
    second = fold([incident(MONDAY - days(20), VICTIM_2, [PERP])], family_id="TEST-FAMILY-TWO")
    result = central_list([first, second], BOOK, AREA, WEEK)
    [row] = result.perpetrators
    assert {f.name: f.points for f in row.factors} == {"linked_victims": 10, "incidents": 6}
    assert row.family_id == "TEST-FAMILY-ONE" and result.families == 2
