"""The per-victim projection and the rules that raise alerts from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.events import CanonicalEvent
from hub.domain.projection import VictimProjection, apply_event
from hub.domain.rules import RuleSettings, evaluate
from tests.unit.canonical import EVENT_TIME, PERPETRATOR, VICTIM, canonical_event, dash_event


def fold(events: list[CanonicalEvent]) -> VictimProjection:
    return reduce(apply_event, events, VictimProjection(VICTIM))


def alerts_for(e: CanonicalEvent, settings: RuleSettings | None = None) -> list:
    settings = settings or RuleSettings()
    return evaluate(apply_event(VictimProjection(e.victim_token), e), e, settings)


# --- the visible-high-risk rule ---------------------------------------------------------------


def test_dash_of_14_raises_exactly_one_visible_high_risk_alert() -> None:
    e = dash_event(14)
    [alert] = alerts_for(e)
    assert alert.rule == "visible_high_risk"
    assert alert.victim_token == VICTIM
    assert alert.triggering_event_ids == (e.hub_id,)
    assert alert.subject_tokens == tuple(sorted({VICTIM, PERPETRATOR}))
    assert alert.event_time == e.time.isoformat()
    assert alert.lawful_basis == "ukgdpr-6-1-e"
    assert "Marac" in alert.recommended_action


def test_dash_of_13_raises_no_alert() -> None:
    assert alerts_for(dash_event(13)) == []


def test_threshold_comes_from_rule_settings() -> None:
    ten = RuleSettings(dash_high_risk=10)
    assert len(alerts_for(dash_event(10), ten)) == 1
    assert alerts_for(dash_event(9), ten) == []


@given(score=st.integers(0, 24), threshold=st.integers(1, 24))
def test_alert_raised_exactly_when_score_reaches_threshold(score: int, threshold: int) -> None:
    alerts = alerts_for(dash_event(score), RuleSettings(dash_high_risk=threshold))
    assert len(alerts) == (1 if score >= threshold else 0)


@pytest.mark.parametrize("event_type", ["police.incident", "referral.made"])
def test_events_other_than_dash_raise_no_alert(event_type: str) -> None:
    e = canonical_event(type=event_type, data={"to": "marac", "abuse_types": ["physical"]})
    assert alerts_for(e, RuleSettings(dash_high_risk=1)) == []


def test_alert_reason_mentions_score_threshold_and_date() -> None:
    [alert] = alerts_for(dash_event(17), RuleSettings(dash_high_risk=15))
    assert "scored 17 of 24" in alert.reason
    assert "threshold 15" in alert.reason
    assert EVENT_TIME.date().isoformat() in alert.reason


def test_alert_id_is_the_same_for_the_same_event() -> None:
    e = dash_event(20)
    [first] = alerts_for(e)
    # a replay, even onto a projection that has seen other events, gives the same id
    later = fold([canonical_event("TEST-EVENT-9"), e])
    [again] = evaluate(later, e, RuleSettings())
    assert again.alert_id == first.alert_id


def test_alert_id_differs_for_a_different_event() -> None:
    [a] = alerts_for(dash_event(20, "TEST-DASH-1"))
    [b] = alerts_for(dash_event(20, "TEST-DASH-2"))
    [c] = alerts_for(dash_event(20, "TEST-DASH-1", victim="st_testvictimjosample"))
    assert len({a.alert_id, b.alert_id, c.alert_id}) == 3


# --- the projection ----------------------------------------------------------------------------


def test_projection_counts_and_collects() -> None:
    events = [
        canonical_event("TEST-EVENT-1", time=EVENT_TIME),
        canonical_event("TEST-EVENT-2", time=EVENT_TIME + timedelta(days=2)),
        dash_event(15, time=EVENT_TIME + timedelta(days=1)),
        canonical_event(
            "TEST-REF-1",
            type="referral.made",
            agency_id="TEST-AE-A",
            agency_type="health_ae",
            perpetrators=(),
            lawful_basis=None,
            consent_ref="TEST-C-1",
            data={"to": "idva"},
        ),
    ]
    p = fold(events)
    assert (p.event_count, p.incident_count, p.referral_count) == (4, 2, 1)
    assert p.first_event_time == EVENT_TIME.isoformat()
    assert p.last_event_time == (EVENT_TIME + timedelta(days=2)).isoformat()
    assert p.latest_dash is not None and p.latest_dash.score == 15
    assert p.perpetrators == (PERPETRATOR,)
    assert p.agencies == ("TEST-AE-A", "TEST-IDVA-A", "TEST-POLICE-A")
    assert p.lawful_bases == ("dpa2018-part3", "ukgdpr-6-1-e")


def test_later_dash_replaces_earlier_whatever_the_arrival_order() -> None:
    early = dash_event(18, "TEST-DASH-1", time=EVENT_TIME)
    late = dash_event(6, "TEST-DASH-2", time=EVENT_TIME + timedelta(hours=1))
    for order in ([early, late], [late, early]):
        latest = fold(order).latest_dash
        assert latest is not None
        assert (latest.hub_id, latest.score) == (late.hub_id, 6)


def test_latest_dash_compares_instants_not_clock_readings() -> None:
    # 10:30 at +02:00 is 08:30 UTC: earlier than the 10:00 UTC assessment.
    utc = dash_event(5, "TEST-DASH-1", time=datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    plus_two = timezone(timedelta(hours=2))
    east = dash_event(20, "TEST-DASH-2", time=datetime(2026, 3, 1, 10, 30, tzinfo=plus_two))
    p = fold([utc, east])
    assert p.latest_dash is not None
    assert p.latest_dash.hub_id == utc.hub_id


AGENCIES = ("TEST-POLICE-A", "TEST-AE-A", "TEST-IDVA-A")
TYPES = ("police.incident", "risk.dash", "referral.made")


@st.composite
def events_about_one_victim(draw: st.DrawFn) -> CanonicalEvent:
    event_type = draw(st.sampled_from(TYPES))
    # few distinct instants, so ties in event time (broken by hub id) are common
    minutes = draw(st.integers(0, 20))
    kw = {
        "agency_id": draw(st.sampled_from(AGENCIES)),
        "time": EVENT_TIME + timedelta(minutes=minutes, microseconds=draw(st.sampled_from([0, 7]))),
        "perpetrators": tuple(draw(st.sets(st.sampled_from(["st_testp1", "st_testp2"])))),
        "lawful_basis": draw(st.sampled_from([None, "ukgdpr-6-1-e", "dpa2018-part3"])),
    }
    source_id = f"TEST-{draw(st.integers(0, 10**6))}"
    if event_type == "risk.dash":
        return dash_event(draw(st.integers(0, 24)), source_id, **kw)
    return canonical_event(source_id, type=event_type, data={"to": "idva"}, **kw)


event_lists = st.lists(
    events_about_one_victim(), min_size=1, max_size=15, unique_by=lambda e: e.hub_id
)


@given(events=event_lists, data=st.data())
def test_any_arrival_order_gives_the_same_projection(
    events: list[CanonicalEvent], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    assert fold(shuffled) == fold(events)


@given(events=event_lists)
def test_latest_dash_is_the_one_with_the_latest_event_time(events: list[CanonicalEvent]) -> None:
    p = fold(events)
    dashes = [e for e in events if e.type == "risk.dash"]
    if not dashes:
        assert p.latest_dash is None
        return
    latest = max(dashes, key=lambda e: (e.time, e.hub_id))
    assert p.latest_dash is not None
    assert (p.latest_dash.hub_id, p.latest_dash.score) == (latest.hub_id, latest.data["score"])
    assert p.latest_dash.time == latest.time.isoformat()


@given(events=event_lists)
def test_projection_summarises_every_event(events: list[CanonicalEvent]) -> None:
    p = fold(events)
    assert p.event_count == len(events)
    assert p.incident_count == sum(e.type == "police.incident" for e in events)
    assert p.referral_count == sum(e.type == "referral.made" for e in events)
    assert p.first_event_time == min(e.time for e in events).isoformat()
    assert p.last_event_time == max(e.time for e in events).isoformat()
    assert set(p.agencies) == {e.agency_id for e in events}
    assert set(p.perpetrators) == {
        s.token for e in events for s in e.subjects if s.role == "perpetrator"
    }


@given(events=event_lists)
def test_projection_survives_storage_as_json(events: list[CanonicalEvent]) -> None:
    p = fold(events)
    assert VictimProjection.from_dict(json.loads(json.dumps(p.to_dict()))) == p
