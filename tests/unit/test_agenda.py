"""Which cases go on the next Marac agenda, from family projections and alerts (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from hub.domain.agenda import family_cases
from hub.domain.alerts import StoredAlert
from hub.domain.areas import AreaSettings
from hub.domain.family import FamilyProjection
from hub.domain.research_prompts import load_research_prompts
from hub.domain.rules import Alert, evaluate
from tests.unit.family_builders import (
    MONDAY,
    PERP,
    VICTIM,
    VICTIM_2,
    dash,
    days,
    fold,
    hearing,
    incident,
    needs,
    referral,
)  # fmt: skip

AREA = AreaSettings(name="TEST-AREA")
PROMPTS = load_research_prompts()


def stored(a: Alert, status: str = "new", **detail: Any) -> StoredAlert:
    return StoredAlert(
        alert_id=a.alert_id, rule=a.rule, family_id=a.family_id, area=a.area,
        victim_token=a.victim_token, person_ids=a.person_ids, subject_tokens=a.subject_tokens,
        triggering_event_ids=a.triggering_event_ids,
        event_time=datetime.fromisoformat(a.event_time), raised_at=MONDAY, updated_at=MONDAY,
        reason=a.reason, recommended_action=a.recommended_action, lawful_basis=a.lawful_basis,
        due=None, status=status, status_detail=dict(detail), revision=1,
    )  # fmt: skip


def cases(p: FamilyProjection, alerts: list[StoredAlert], since: date | None = None) -> list:
    return family_cases(p.family_id, p.to_dict(), alerts, since, AREA, PROMPTS)


def alerts_of(p: FamilyProjection, status: str = "new", **detail: Any) -> list[StoredAlert]:
    return [stored(a, status, **detail) for a in evaluate(p, AREA, None)]


def test_a_high_risk_victim_is_a_case_with_prompts_for_the_agencies_involved() -> None:
    p = fold([incident(MONDAY), dash(15, MONDAY + days(1)), needs(MONDAY, "mental_health")])
    [case] = cases(p, alerts_of(p))
    assert case.victim_token == VICTIM and not case.on_agenda and not case.repeat
    assert [a.rule for a in case.alerts] == ["visible_high_risk"]
    assert {a["agency_type"] for a in case.agencies} == {"police", "idva", "gp"}
    prompted = [(r["agency_type"], r["involved"]) for r in case.research_prompts]
    assert prompted == [
        ("gp", True), ("idva", True), ("police", True),
        ("mental_health", False), ("substance_misuse", False),
    ]  # fmt: skip


def test_only_alerts_that_refer_to_marac_count_and_not_when_dismissed() -> None:
    medium = fold([dash(7, MONDAY)])
    assert cases(medium, alerts_of(medium)) == []  # medium risk: community Idva, not Marac
    high = fold([dash(16, MONDAY)])
    assert cases(high, alerts_of(high, "dismissed")) == []
    assert len(cases(high, alerts_of(high, "acknowledged"))) == 1


def test_since_is_inclusive_and_a_hearing_on_or_after_the_item_takes_it_off() -> None:
    p = fold([dash(15, MONDAY)])
    assert len(cases(p, alerts_of(p), since=MONDAY.date())) == 1
    assert cases(p, alerts_of(p), since=MONDAY.date() + days(1)) == []
    heard_same_day = fold([dash(15, MONDAY), hearing(MONDAY + days(0.25))])
    assert cases(heard_same_day, alerts_of(heard_same_day), since=MONDAY.date()) == []


def test_a_referral_to_marac_is_a_case_without_any_alert() -> None:
    p = fold([referral(MONDAY, to="marac")])
    [case] = cases(p, [])
    assert [r["type"] for r in case.referrals] == ["referral.made"]
    assert case.item_ids == [case.referrals[0]["hub_id"]]
    assert cases(fold([referral(MONDAY, to="idva")]), []) == []


def test_an_alert_on_the_agenda_stays_until_the_victim_is_heard() -> None:
    p = fold([dash(7, MONDAY)])
    added = {"at": (MONDAY + days(2)).isoformat(), "meeting_date": "2026-03-20"}
    [case] = cases(p, alerts_of(p, "on_agenda", **added), since=MONDAY.date() + days(30))
    assert case.on_agenda and case.meeting_date == "2026-03-20"
    heard = fold([dash(7, MONDAY), hearing(MONDAY + days(18))])
    assert cases(heard, alerts_of(heard, "on_agenda", **added)) == []


@pytest.mark.parametrize(("gap", "repeat"), [(365, True), (366, False)])
def test_a_hearing_within_the_window_flags_a_repeat(gap: int, repeat: bool) -> None:
    first = MONDAY - days(gap)
    p = fold([hearing(first), dash(15, MONDAY)])
    [case] = cases(p, [a for a in alerts_of(p) if a.rule == "visible_high_risk"])
    assert case.repeat is repeat
    if repeat:
        assert case.repeat_reasons == [
            f"heard at Marac (TEST-AREA) on {first.date().isoformat()}, within 12 months"
        ]


def test_a_repeat_marac_case_alert_flags_a_repeat_and_open_actions_show_owners() -> None:
    p = fold([hearing(MONDAY), incident(MONDAY + days(40))])
    [case] = cases(p, alerts_of(p), since=MONDAY.date() + days(1))
    assert "repeat_marac_case" in {a.rule for a in case.alerts}
    assert case.repeat and case.repeat_reasons[0].startswith("repeat Marac case: ")
    assert {(a["action"], a["owner_agency"]) for a in case.open_actions} == {
        ("spoc", "TEST-IDVA-A"), ("flag_files", "TEST-POLICE-A"),
    }  # fmt: skip


def test_each_victim_of_a_family_is_a_case_of_their_own_in_referral_order() -> None:
    p = fold([dash(15, MONDAY + days(3)), dash(15, MONDAY, victim=VICTIM_2)])
    found = cases(p, alerts_of(p))
    assert [c.victim_token for c in found] == [VICTIM_2, VICTIM]
    assert all(PERP not in c.victim_token for c in found)
    assert found[0].first == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
