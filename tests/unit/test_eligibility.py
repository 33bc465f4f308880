"""Marac and the community Idva service are for victims 16 or over: where a Dash states the
victim's age, a victim known to be under 16 is pointed to children's safeguarding instead of
a Marac referral (issue 15, section 4). Boundaries: 15, 16, and an age not stated."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.contract.examples import EXAMPLES
from hub.contract.parse import InvalidEvent, parse_event
from hub.domain.events import CanonicalEvent
from hub.domain.rules import Alert, evaluate
from tests.unit.family_builders import MONDAY, dash, days, fold, hearing, incident, referral
from tests.unit.test_rules import AREA

MARAC = "Refer to Marac"
CHILDREN = "children's safeguarding"


def aged(e: CanonicalEvent, age: int) -> CanonicalEvent:
    """The Dash with the victim's age stated on it."""
    return replace(e, data={**e.data, "victim_age": age})


def only(rule: str, events: list[CanonicalEvent]) -> Alert:
    [a] = [a for a in evaluate(fold(events), AREA, None) if a.rule == rule]
    return a


@pytest.mark.parametrize(("age", "marac"), [(15, False), (16, True), (None, True)])
def test_a_high_dash_asks_for_marac_only_for_a_victim_not_known_to_be_under_16(
    age: int | None, marac: bool
) -> None:
    e = dash(15, MONDAY)
    a = only("visible_high_risk", [e if age is None else aged(e, age)])
    assert (MARAC in a.recommended_action) == marac
    assert (CHILDREN in a.recommended_action) == (not marac)
    if not marac:
        assert a.recommended_action.startswith("Marac is for victims 16 or over")
        assert "the victim is under 16 (aged 15 by Idva 2026-03-02)" in a.reason


@pytest.mark.parametrize(("age", "marac"), [(15, False), (16, True), (None, True)])
def test_judgement_raised_to_high_points_a_victim_under_16_to_children_s_safeguarding(
    age: int | None, marac: bool
) -> None:
    e = dash(8, MONDAY, raised_to="high")
    a = only("professional_judgement", [e if age is None else aged(e, age)])
    assert (MARAC in a.recommended_action) == marac
    assert (CHILDREN in a.recommended_action) == (not marac)


@pytest.mark.parametrize(("age", "idva"), [(15, False), (16, True), (None, True)])
def test_the_community_idva_route_is_for_victims_16_or_over(age: int | None, idva: bool) -> None:
    e = dash(7, MONDAY)
    a = only("medium_risk", [e if age is None else aged(e, age)])
    assert a.recommended_action.startswith("Route to the community Idva") == idva
    if not idva:
        assert a.recommended_action.startswith("The community Idva service is for victims 16")
        assert CHILDREN in a.recommended_action


@pytest.mark.parametrize(("gap", "under"), [(365, True), (366, False)])
def test_an_age_stated_earlier_counts_until_the_victim_may_have_turned_16(
    gap: int, under: bool
) -> None:
    # aged 14 on 2 March 2026: 15 at the earliest on 3 March 2026, 16 on 3 March 2027
    earlier = aged(dash(3, MONDAY), 14)
    later = referral(MONDAY + days(gap), pj=True)
    a = only("professional_judgement", [earlier, later])
    assert (CHILDREN in a.recommended_action) == under
    assert (MARAC in a.recommended_action) == (not under)


def test_the_latest_stated_age_decides() -> None:
    # a later Dash saying 17 corrects an earlier one that said 15
    events = [aged(dash(3, MONDAY), 15), aged(dash(15, MONDAY + days(1)), 17)]
    assert MARAC in only("visible_high_risk", events).recommended_action


def test_escalation_and_repeats_of_a_victim_under_16_point_to_children_s_safeguarding() -> None:
    stated = aged(dash(3, MONDAY), 13)
    three = [incident(MONDAY + days(n)) for n in (1, 2, 3)]
    assert CHILDREN in only("potential_escalation", [stated, *three]).recommended_action
    repeat = [stated, hearing(MONDAY + days(5)), incident(MONDAY + days(9))]
    assert CHILDREN in only("repeat_marac_case", repeat).recommended_action


def _dash_example(age: object) -> dict[str, object]:
    body = dict(EXAMPLES["risk.dash"])
    body["data"] = {**body["data"], "victim_age": age}  # type: ignore[dict-item]
    return body


@pytest.mark.parametrize("age", [0, 15, 16, 120])
def test_the_contract_takes_an_age_from_0_to_120(age: int) -> None:
    event = parse_event(_dash_example(age), 64 * 1024)
    assert event.data.victim_age == age  # type: ignore[union-attr]


@pytest.mark.parametrize("age", [-1, 121, "sixteen", 15.5])
def test_the_contract_refuses_an_age_outside_0_to_120(age: object) -> None:
    with pytest.raises(InvalidEvent) as refused:
        parse_event(_dash_example(age), 64 * 1024)
    assert [e["path"] for e in refused.value.errors] == ["data.victim_age"]
