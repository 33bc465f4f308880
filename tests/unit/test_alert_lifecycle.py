"""The alert lifecycle as commands: transitions, decisions not yet applied, the event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.domain import alert_lifecycle as lc
from hub.domain import internal
from hub.domain.events import CanonicalEvent, SubjectRef

ALERT = "3de715ba-a4aa-5138-9000-1f2414a5c50a"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def decided(verb: str, revision: int = 1, at: datetime = T0, **extra: object) -> CanonicalEvent:
    return lc.alert_decision_event(
        verb, ALERT, revision, SubjectRef("st_victim", "victim"), "chair-1", "marac_chair", at,
        dict(extra),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("verb", "status", "allowed"),
    [
        ("acknowledge", "new", True),
        ("acknowledge", "reopened", True),
        ("acknowledge", "acknowledged", False),
        ("acknowledge", "on_agenda", False),
        ("acknowledge", "dismissed", False),
        ("agenda", "new", True),
        ("agenda", "acknowledged", True),
        ("agenda", "dismissed", True),  # a dismissal can be reconsidered
        ("dismiss", "new", True),
        ("dismiss", "acknowledged", True),
        ("dismiss", "on_agenda", True),
        ("dismiss", "dismissed", False),  # the first reason stands
    ],
)
def test_transitions(verb: str, status: str, allowed: bool) -> None:
    if allowed:
        lc.check(verb, status, {})
    else:
        with pytest.raises(lc.LifecycleConflict):
            lc.check(verb, status, {"at": T0.isoformat()})


def test_an_agenda_alert_moves_to_another_meeting_but_not_to_the_same_one() -> None:
    detail = {"meeting_date": "2026-04-01"}
    lc.check("agenda", "on_agenda", detail, date(2026, 4, 15))
    with pytest.raises(lc.LifecycleConflict, match="already on the agenda for the meeting of"):
        lc.check("agenda", "on_agenda", detail, date(2026, 4, 1))
    with pytest.raises(lc.LifecycleConflict, match="next meeting"):
        lc.check("agenda", "on_agenda", {"meeting_date": None}, None)


def test_conflict_messages_say_what_to_do_without_echoing_the_reason() -> None:
    detail = {"at": T0.isoformat(), "reason": "Alex Example moved away (fictional)"}
    with pytest.raises(lc.LifecycleConflict) as caught:
        lc.check("dismiss", "dismissed", detail)
    assert "2026-03-02" in str(caught.value) and "Alex" not in str(caught.value)
    with pytest.raises(lc.LifecycleConflict, match="add it to the agenda"):
        lc.check("acknowledge", "dismissed", detail)


def test_a_decision_not_yet_applied_counts_and_the_latest_wins() -> None:
    ack = decided("acknowledge")
    assert lc.alert_status_now("new", {}, [ack]) == ("acknowledged", lc.detail_of(ack))
    dismissed = decided("dismiss", at=T0 + timedelta(minutes=1), reason="Duplicate of a case")
    status, detail = lc.alert_status_now("new", {}, [dismissed, ack])
    assert status == "dismissed" and detail["reason"] == "Duplicate of a case"
    assert detail["by"] == "chair-1" and detail["role"] == "marac_chair"


def test_a_decision_already_applied_is_not_counted_twice() -> None:
    ack = decided("acknowledge")
    applied = lc.detail_of(ack)
    assert lc.alert_status_now("acknowledged", applied, [ack]) == ("acknowledged", applied)


def test_the_same_decision_on_the_same_revision_is_one_event() -> None:
    first, retry = decided("acknowledge"), decided("acknowledge", at=T0 + timedelta(seconds=3))
    assert first.hub_id == retry.hub_id
    assert lc.alert_decision_hash(first) == lc.alert_decision_hash(
        retry
    )  # the time is not the content
    assert first.hub_id in lc.pending_ids(ALERT, 1)
    assert decided("acknowledge", revision=2).hub_id not in lc.pending_ids(ALERT, 1)
    other = lc.alert_decision_event(
        "acknowledge", ALERT, 1, SubjectRef("st_victim", "victim"), "chair-2", "marac_chair", T0
    )
    assert lc.alert_decision_hash(other) != lc.alert_decision_hash(first)


def test_the_event_is_a_hub_event_about_the_victim() -> None:
    e = decided("agenda", meeting_date="2026-04-01")
    assert e.type == internal.ALERT_AGENDA_ADDED and e.agency_id == internal.HUB_AGENCY
    assert e.subjects == (SubjectRef("st_victim", "victim"),)
    assert e.data == {
        "alert_id": ALERT, "actor": "chair-1", "actor_role": "marac_chair",
        "meeting_date": "2026-04-01",
    }  # fmt: skip
    assert CanonicalEvent.from_json(e.to_json()) == e


def _incident(*subjects: SubjectRef) -> CanonicalEvent:
    return internal.internal_event(internal.ALERT_ACKNOWLEDGED, "x", T0, subjects, {})


def test_an_alert_about_a_perpetrator_only_is_recorded_under_the_perpetrator() -> None:
    assert lc.acting_subject("st_v", ("st_p", "st_v"), []) == SubjectRef("st_v", "victim")
    trigger = _incident(SubjectRef("st_v1", "victim"), SubjectRef("st_p", "perpetrator"))
    chosen = lc.acting_subject("", ("st_p", "st_v1", "st_v2"), [trigger])
    assert chosen == SubjectRef("st_p", "perpetrator")
    assert lc.acting_subject("", ("st_q",), []) == SubjectRef("st_q", "perpetrator")
