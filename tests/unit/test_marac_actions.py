"""Marac actions as tracked things (issue 15, section 1): every hearing's actions are kept,
only the owning agency moves its action on, "done" is not case.closed, and an action still
open after its due date raises one alert to the chair, from the day after the due date."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.events import CanonicalEvent
from hub.domain.family import open_actions, tracked_actions
from hub.domain.rules import next_due
from tests.unit.family_builders import (
    IDVA,
    MONDAY,
    POLICE,
    action_update,
    closed,
    days,
    fold,
    hearing,
)
from tests.unit.test_rules import AREA, alerts, of

# MONDAY is 2 March 2026 (London time is UTC then); the actions are due on Monday 16 March.
DUE = MONDAY + days(14)
END_OF_DUE_DAY = DUE.replace(hour=0) + days(1)  # local midnight after the due date
HEARD = hearing(MONDAY, due=DUE)
SPOC, FLAG = f"{HEARD.hub_id}.1", f"{HEARD.hub_id}.2"


def states(*events: CanonicalEvent) -> dict[str, str]:
    return {a.action_id: a.state for a in tracked_actions(fold([HEARD, *events]))}


def test_a_hearing_s_actions_start_open_with_their_owner_type_and_due_date() -> None:
    [spoc, flag] = tracked_actions(fold([HEARD]))
    assert (spoc.action_id, spoc.owner_agency, spoc.type, spoc.state) == (
        SPOC, IDVA[0], "spoc", "open",
    )  # fmt: skip
    assert (flag.owner_agency, flag.due_date, flag.meeting_date) == (
        POLICE[0], "2026-03-16", "2026-03-02",
    )  # fmt: skip
    assert [h["state"] for h in spoc.history] == ["open"]


def test_the_owner_moves_its_action_through_in_progress_to_done_and_history_keeps_each_step(
) -> None:  # fmt: skip
    started = action_update(MONDAY + days(1), SPOC, "in_progress")
    done = action_update(MONDAY + days(3), SPOC, "done")
    [spoc, flag] = tracked_actions(fold([HEARD, done, started]))  # arrival order does not matter
    assert spoc.state == "done" and flag.state == "open"
    assert [(h["state"], h["by"]) for h in spoc.history] == [
        ("open", "TEST-MARAC-A"), ("in_progress", IDVA[0]), ("done", IDVA[0]),
    ]  # fmt: skip
    assert [a["action_id"] for a in open_actions(fold([HEARD, started, done]))] == [FLAG]


def test_not_possible_keeps_its_reason() -> None:
    no = action_update(MONDAY + days(2), FLAG, "not_possible", agency=POLICE, reason="no address")
    [flag] = [a for a in tracked_actions(fold([HEARD, no])) if a.action_id == FLAG]
    assert (flag.state, flag.reason, flag.finished) == ("not_possible", "no address", True)


def test_only_the_owning_agency_moves_an_action() -> None:
    # the police may not mark the Idva's SPOC done
    assert states(action_update(MONDAY + days(1), SPOC, "done", agency=POLICE))[SPOC] == "open"


def test_done_is_not_case_closed() -> None:
    assert states(closed(MONDAY + days(1)))[SPOC] == "open"


def test_actions_of_every_hearing_are_kept() -> None:
    later = hearing(MONDAY + days(60), due=MONDAY + days(70))
    found = tracked_actions(fold([HEARD, later]))
    assert [a.hearing_id for a in found] == [HEARD.hub_id] * 2 + [later.hub_id] * 2
    assert len(open_actions(fold([HEARD, later]))) == 4


def test_overdue_starts_the_day_after_the_due_date() -> None:
    [action] = [a for a in tracked_actions(fold([HEARD])) if a.action_id == SPOC]
    assert not action.overdue(date(2026, 3, 16))  # the due date itself is in time
    assert action.overdue(date(2026, 3, 17))


def test_an_overdue_action_alerts_the_chair_once_the_clock_passes_the_due_day() -> None:
    just_before = END_OF_DUE_DAY - timedelta(seconds=1)
    assert of("action_overdue", [HEARD], clock=just_before) == []
    found = of("action_overdue", [HEARD], clock=END_OF_DUE_DAY)
    assert sorted(a.reason.split('"')[1] for a in found) == ["flag files", "spoc"]
    assert all(a.triggering_event_ids == (HEARD.hub_id,) for a in found)
    assert {a.due for a in found} == {END_OF_DUE_DAY.isoformat()}


def test_a_done_or_not_possible_action_is_not_overdue_and_in_progress_still_is() -> None:
    done = action_update(MONDAY + days(20), SPOC, "done")  # late, but done: the alert goes
    in_progress = action_update(MONDAY + days(5), FLAG, "in_progress", agency=POLICE)
    [left] = of("action_overdue", [HEARD, done, in_progress], clock=MONDAY + days(30))
    assert "flag files" in left.reason and "in progress" in left.reason


def test_next_due_names_the_end_of_the_due_day_until_the_action_is_finished() -> None:
    assert next_due(fold([HEARD]), AREA) == END_OF_DUE_DAY
    finished = [
        action_update(MONDAY + days(1), SPOC, "done"),
        action_update(MONDAY + days(1), FLAG, "done", agency=POLICE),
    ]
    assert next_due(fold([HEARD, *finished]), AREA) is None
    assert next_due(fold([hearing(MONDAY)]), AREA) is None  # no due date, no deadline


@given(st.permutations([HEARD, action_update(MONDAY + days(1), SPOC, "in_progress"),
                        action_update(MONDAY + days(20), SPOC, "done"),
                        action_update(MONDAY + days(2), FLAG, "done", agency=IDVA)]))  # fmt: skip
def test_the_alerts_depend_on_the_events_and_the_clock_not_their_order(
    order: list[CanonicalEvent],
) -> None:
    clock = MONDAY + days(30)
    assert alerts(order, clock=clock) == alerts(sorted(order, key=lambda e: e.time), clock=clock)
