"""Outcomes and closure (issue 15, section 3): support cases with intake beside exit, and the
outcomes report's measures, each at its boundaries. Pure: projections folded from fake
events, a fixed period, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hub.domain.areas import AreaSettings
from hub.domain.calendar import Calendar
from hub.domain.family import FamilyProjection
from hub.domain.family.cases import REASON_WORDS, exit_words, support_cases
from hub.domain.family.views import derived_views
from hub.domain.reports import Period, ReportError, lines, outcomes_report
from tests.unit.family_builders import (
    MONDAY,
    POLICE,
    VICTIM,
    VICTIM_2,
    action_update,
    closed,
    contact,
    dash,
    days,
    event,
    fold,
    hearing,
    incident,
    needs,
    referral,
)

AREA = AreaSettings(name="TEST-AREA")
CAL = Calendar()
EXIT = {"abuse": {"physical": "stopped"}, "feels_safer": "yes", "engagement": "throughout"}


def marac_referral(at: datetime, victim: str = VICTIM) -> object:
    return referral(at, to="marac", victim=victim)


def report(*families: FamilyProjection, start: date, end: date) -> dict:
    return outcomes_report(families, AREA, Period(start, end)).to_dict()


# --- support cases: intake beside exit ------------------------------------------------------


def test_a_case_runs_from_the_referral_into_the_service_to_its_closure() -> None:
    p = fold([
        incident(MONDAY - days(3), children_present=True, abuse_types=["physical", "economic"]),
        needs(MONDAY - days(2), "housing"),
        referral(MONDAY, to="idva"),
        contact(MONDAY + days(1), outcome="no_answer"),
        contact(MONDAY + days(2)),
        dash(15, MONDAY + days(2)),
        closed(MONDAY + days(40), reason="support_completed", exit=EXIT),
    ])  # fmt: skip
    [case] = support_cases(p)
    assert case.days_to_first_contact(CAL) == 2  # the attempt that reached her, not the first
    assert case.days_of_support(CAL) == 40
    assert case.intake == {
        "abuse_types": ["economic", "physical"], "children_exposed": True,
        "childrens_services_referral": False, "needs": ["housing"], "dash_score": 15,
        "victim_view": None,
    }  # fmt: skip
    assert case.exit == EXIT and case.reason == "support_completed"


def test_continue_keeps_the_case_open_and_a_later_referral_starts_a_new_case() -> None:
    p = fold([
        referral(MONDAY, to="community_idva"),
        closed(MONDAY + days(5), outcome="continue"),
        referral(MONDAY + days(6), to="idva"),  # the same case: it is still open
        closed(MONDAY + days(10), outcome="onward_referral"),
        incident(MONDAY + days(20), abuse_types=["harassment_stalking"]),
        referral(MONDAY + days(30), to="idva"),
    ])  # fmt: skip
    first, second = support_cases(p)
    assert first.days_of_support(CAL) == 10 and first.exit == {} and first.reason is None
    assert second.closed is None and second.opened is not None
    assert second.intake["abuse_types"] == ["harassment_stalking"]  # since the last case only


def test_referrals_elsewhere_do_not_open_a_case_and_a_closure_without_one_has_no_start() -> None:
    p = fold([referral(MONDAY, to="housing"), closed(MONDAY + days(3))])
    [case] = support_cases(p)
    assert case.opened is None and case.days_of_support(CAL) is None and case.intake == {}


def test_the_family_view_shows_each_case_with_intake_and_exit() -> None:
    p = fold([referral(MONDAY), closed(MONDAY + days(9), reason="not_able_to_engage")])
    [shown] = derived_views(p)["cases"]
    assert shown["days_of_support"] == 9 and shown["reason"] == "not_able_to_engage"
    assert shown["intake"]["abuse_types"] == [] and shown["exit"] == {}


def test_outcome_words_never_blame_the_victim() -> None:
    shown = [*REASON_WORDS.values(), exit_words("engagement", "not_able_to_engage")]
    for words in shown:
        for blaming in ("refus", "no show", "did not attend", "failed", "disengaged"):
            assert blaming not in words.lower()
    assert exit_words("engagement", "not_able_to_engage") == (
        "We were not able to engage the client into the service"
    )
    assert exit_words("feels_safer", None) == "Not recorded"


# --- the period -------------------------------------------------------------------------------


def test_the_default_period_is_the_area_window_a_calendar_year_back() -> None:
    period = Period.parse(None, None, AREA, date(2028, 2, 29))
    assert (period.start, period.end) == (date(2027, 2, 28), date(2028, 2, 29))


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2026-04-01", "2026-03-01", "after it ends"),
        ("2026-13-01", "2026-03-01", "is not a date"),
        ("2010-01-01", "2026-03-01", "ten years or less"),
    ],
)
def test_a_period_that_cannot_be_drawn_says_what_to_change(
    start: str, end: str, words: str
) -> None:
    with pytest.raises(ReportError, match=words):
        Period.parse(start, end, AREA, date(2026, 3, 1))


# --- each measure at its boundaries -------------------------------------------------------------


def test_first_contact_counts_referrals_of_the_period_and_the_working_day_limit() -> None:
    # Monday referral: five working days end on the next Monday's end
    on_time = fold([referral(MONDAY), contact(MONDAY + days(7))], family_id="TEST-FAMILY-1")
    late = fold(
        [referral(MONDAY, victim=VICTIM_2), contact(MONDAY + days(8), victim=VICTIM_2)],
        family_id="TEST-FAMILY-2",
    )
    never = fold([referral(MONDAY + days(1), victim="st_testvictim_c")], family_id="F3")
    outside = fold([referral(MONDAY - days(1), victim="st_testvictim_d")], family_id="F4")
    fc = report(on_time, late, never, outside, start=MONDAY.date(), end=date(2026, 3, 31))[
        "first_contact"
    ]
    assert fc == {
        "referrals": 3, "contacted": 2, "within_working_days": 1, "working_days": 5,
        "median_days": 7.5, "mean_days": 7.5,
    }  # fmt: skip


def test_length_of_support_counts_cases_ended_in_the_period_both_ends_inclusive() -> None:
    p = fold([
        referral(MONDAY - days(10)), closed(MONDAY),
        referral(MONDAY + days(1)), closed(MONDAY + days(29)),
        referral(MONDAY + days(30)), closed(MONDAY + days(31)),  # ends after the period
    ])  # fmt: skip
    got = report(p, start=MONDAY.date(), end=(MONDAY + days(29)).date())["support"]
    assert got == {"ended": 2, "start_held": 2, "median_days": 19, "mean_days": 19}


@pytest.mark.parametrize(
    ("previous", "repeat"),
    [
        (datetime(2027, 2, 28, 12, tzinfo=UTC), True),  # a calendar year back from 29 Feb
        (datetime(2027, 2, 27, 12, tzinfo=UTC), False),
    ],
)
def test_a_marac_referral_is_a_repeat_within_a_calendar_year_of_the_previous_one(
    previous: datetime, repeat: bool
) -> None:
    now = datetime(2028, 2, 29, 12, tzinfo=UTC)
    p = fold([marac_referral(previous), marac_referral(now)])
    got = report(p, start=date(2028, 2, 1), end=date(2028, 2, 29))["marac_repeats"]
    assert got == {"referrals": 1, "repeats": int(repeat), "window": "12 months"}


def test_a_hearing_with_no_referral_held_counts_as_the_previous_marac_referral() -> None:
    p = fold([hearing(MONDAY), marac_referral(MONDAY + days(100))])
    got = report(p, start=MONDAY.date(), end=(MONDAY + days(100)).date())["marac_repeats"]
    assert (got["referrals"], got["repeats"]) == (2, 1)


def test_share_of_cases_heard_with_an_action_plan() -> None:
    no_plan = event(
        "marac.case_heard", MONDAY + days(7), [(VICTIM_2, "victim")],
        {"meeting_date": (MONDAY + days(7)).date().isoformat(), "area": "TEST-AREA"},
        agency=("TEST-MARAC-A", "marac"),
    )  # fmt: skip
    p = fold([hearing(MONDAY), no_plan, hearing(MONDAY + days(60))])
    got = report(p, start=MONDAY.date(), end=(MONDAY + days(7)).date())["hearings"]
    assert got == {"heard": 2, "with_action_plan": 1}


def test_actions_done_on_the_due_date_are_on_time_and_the_day_after_late() -> None:
    due = MONDAY + days(7)
    heard = hearing(MONDAY, due=due)
    first, second = f"{heard.hub_id}.1", f"{heard.hub_id}.2"
    p = fold([
        heard,
        action_update(due.replace(hour=23, minute=59), first, "done"),
        action_update(due + days(1), second, "done", agency=POLICE),
    ])  # fmt: skip
    got = report(p, start=due.date(), end=due.date())["actions"]
    assert got == {"due": 2, "done_on_time": 1, "done_late": 1, "not_possible": 0, "not_done": 0}
    other_day = report(p, start=MONDAY.date(), end=(due - days(1)).date())["actions"]
    assert other_day["due"] == 0


def test_actions_not_possible_and_not_done_are_counted_apart() -> None:
    due = MONDAY + days(7)
    heard = hearing(MONDAY, due=due)
    p = fold([heard, action_update(MONDAY + days(1), f"{heard.hub_id}.1", "not_possible",
                                   reason="Client moved out of area")])  # fmt: skip
    got = report(p, start=due.date(), end=due.date())["actions"]
    assert (got["not_possible"], got["not_done"]) == (1, 1)


def test_outcomes_at_exit_per_abuse_type_with_what_was_not_recorded() -> None:
    p = fold([
        incident(MONDAY - days(1), abuse_types=["physical", "coercive_control"]),
        referral(MONDAY),
        closed(MONDAY + days(30), reason="support_completed", exit=EXIT),
        referral(MONDAY + days(31), victim=VICTIM_2),
        closed(MONDAY + days(32), victim=VICTIM_2),  # a v1 closure: nothing measured
    ])  # fmt: skip
    got = report(p, start=MONDAY.date(), end=(MONDAY + days(40)).date())["exit"]
    assert got["closures"] == 2
    assert got["reasons"] == {"not_recorded": 1, "support_completed": 1}
    assert got["abuse"] == {
        "coercive_control": {"not_recorded": 1}, "physical": {"stopped": 1},
    }  # fmt: skip
    assert got["feels_safer"] == {"not_recorded": 1, "yes": 1}
    assert got["engagement"] == {"not_recorded": 1, "throughout": 1}
    shown = {
        (x.measure, x.number, x.out_of)
        for x in lines(report(p, start=MONDAY.date(), end=date(2026, 4, 30)))
    }
    assert ("Physical abuse: Stopped", "1", "1") in shown
    assert ("Reason: Support completed", "1", "2") in shown
    assert ("Feeling safer: Not recorded", "1", "2") in shown


def test_an_empty_area_reports_zeros_and_no_averages() -> None:
    got = report(start=MONDAY.date(), end=MONDAY.date())
    assert got["families_counted"] == 0
    assert got["first_contact"]["median_days"] is None
    assert all(x.share == "" for x in lines(got))  # nothing out of zero
