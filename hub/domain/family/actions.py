"""Marac actions as tracked things, folded from a family's timeline (issue 15, section 1).

Every hearing's actions are kept, not only the latest hearing's. An action's id is
``<hearing hub id>.<n>``: its place (from 1) in the hearing's list, so it is stable, needs no
store and is the same live and rebuilt. Its state starts ``open`` and moves with each
``marac.action.updated`` from the **owning agency** (an update from any other agency is not
applied: only the owner answers for its action), in timeline order; the latest applied update
is the state. Every applied update is kept in the action's history.

"Done" closes the action, never the case: ``case.closed`` leaves actions as they are.
An action is **overdue** once the day after its due date has begun (the due date itself is
inside) while it is still open or in progress.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.family.entry import Entry
from hub.domain.family.queries import FamilyTimeline

OPEN, IN_PROGRESS, DONE, NOT_POSSIBLE = "open", "in_progress", "done", "not_possible"
STATES = (OPEN, IN_PROGRESS, DONE, NOT_POSSIBLE)
FINISHED = frozenset({DONE, NOT_POSSIBLE})


def action_id(hearing_id: str, n: int) -> str:
    """The id of the nth (from 1) action of a hearing."""
    return f"{hearing_id}.{n}"


@dataclass(frozen=True)
class TrackedAction:
    action_id: str
    hearing_id: str
    victims: tuple[str, ...]  # person ids the hearing heard
    meeting_date: str | None
    area: str | None
    owner_agency: str
    type: str
    text: str | None
    due_date: str | None
    state: str
    reason: str | None  # why not possible
    history: tuple[dict[str, Any], ...]  # each change: state, at, by (agency), reason, event

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def overdue(self, today: date) -> bool:
        """Past its due date (today is the day after it or later) and not finished."""
        if self.finished or self.due_date is None:
            return False
        return date.fromisoformat(self.due_date) < today

    def to_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "hearing": self.hearing_id,
            "victims": list(self.victims),
            "meeting_date": self.meeting_date,
            "area": self.area,
            "owner_agency": self.owner_agency,
            "action": self.type,
            "text": self.text,
            "due_date": self.due_date,
            "state": self.state,
            "reason": self.reason,
            "history": [dict(h) for h in self.history],
        }


def _updates(p: FamilyTimeline) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = defaultdict(list)
    for e in p.timeline:
        if e.type == EventType.MARAC_ACTION_UPDATED and isinstance(e.facts.get("action_id"), str):
            out[e.facts["action_id"]].append(e)
    return out


def _tracked(hearing: Entry, n: int, agreed: dict[str, Any], updates: list[Entry]) -> TrackedAction:
    owner = str(agreed.get("owner_agency", ""))
    state, reason = OPEN, None
    history: list[dict[str, Any]] = [
        {"state": OPEN, "at": hearing.time.isoformat(), "by": hearing.agency_id,
         "reason": None, "event": hearing.hub_id}
    ]  # fmt: skip
    for u in updates:
        if u.agency_id != owner or u.facts.get("state") not in STATES:
            continue
        state, reason = str(u.facts["state"]), u.facts.get("reason")
        history.append({
            "state": state, "at": u.time.isoformat(), "by": u.agency_id, "reason": reason,
            "event": u.hub_id,
        })  # fmt: skip
    return TrackedAction(
        action_id=action_id(hearing.hub_id, n),
        hearing_id=hearing.hub_id,
        victims=hearing.persons("victim"),
        meeting_date=hearing.facts.get("meeting_date"),
        area=hearing.facts.get("area"),
        owner_agency=owner,
        type=str(agreed.get("action", "other")),
        text=agreed.get("text"),
        due_date=agreed.get("due_date"),
        state=state,
        reason=reason if state == NOT_POSSIBLE else None,
        history=tuple(history),
    )


def tracked_actions(p: FamilyTimeline) -> list[TrackedAction]:
    """Every action of every hearing of the family, in hearing (timeline) order."""
    updates = _updates(p)
    out = []
    for e in p.timeline:
        if e.type != EventType.MARAC_CASE_HEARD:
            continue
        for n, agreed in enumerate(e.facts.get("actions", ()), start=1):
            if isinstance(agreed, dict):
                aid = action_id(e.hub_id, n)
                out.append(_tracked(e, n, agreed, updates.get(aid, [])))
    return out
