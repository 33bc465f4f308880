"""The alert lifecycle as the family's timeline records it (hub.alert.* events).

The latest decision on an alert id (by event time, then hub id) is its status:
acknowledged, on_agenda or dismissed. A dismissed alert one of whose triggers reached the hub
(recorded_at) after the dismissal is shown as "reopened": the condition grew, so the chair
sees it as new. Acknowledged and on-agenda alerts keep their status when triggers grow: the
chair already holds the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.alerts import AlertStatus
from hub.domain.family.entry import Entry
from hub.domain.family.queries import FamilyTimeline
from hub.domain.internal import ALERT_ACKNOWLEDGED, ALERT_AGENDA_ADDED, ALERT_DISMISSED

DECISIONS: dict[str, AlertStatus] = {
    ALERT_ACKNOWLEDGED: AlertStatus.ACKNOWLEDGED,
    ALERT_AGENDA_ADDED: AlertStatus.ON_AGENDA,
    ALERT_DISMISSED: AlertStatus.DISMISSED,
}


def _iso(t: datetime) -> str:
    return t.isoformat()


@dataclass(frozen=True)
class AlertState:
    """The latest decision on an alert, and which events reached the hub after it."""

    status: str  # acknowledged | on_agenda | dismissed
    by: str | None
    role: str | None
    at: datetime
    event_id: str
    reason: str | None = None
    meeting_date: str | None = None
    recorded_after: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def effective(self, triggering_event_ids: Iterable[str]) -> str:
        """How the alert is shown: a dismissed alert one of whose triggers reached the hub
        (recorded_at) after the dismissal is "reopened", so the chair sees the grown condition
        as new. Acknowledged and on-agenda alerts keep their status when triggers grow: the
        chair already holds the case."""
        if self.status == AlertStatus.DISMISSED and not self.recorded_after.isdisjoint(
            triggering_event_ids
        ):
            return AlertStatus.REOPENED
        return self.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "by": self.by,
            "role": self.role,
            "at": _iso(self.at),
            "event_id": self.event_id,
            "reason": self.reason,
            "meeting_date": self.meeting_date,
        }


def alert_status(p: FamilyTimeline) -> dict[str, AlertState]:
    """alert id → its latest decision (latest by event time, then hub id)."""
    latest: dict[str, Entry] = {}
    for e in p.timeline:
        if e.type in DECISIONS and e.facts.get("alert_id"):
            latest[str(e.facts["alert_id"])] = e
    out = {}
    for alert_id, e in latest.items():
        dismissed = e.type == ALERT_DISMISSED
        out[alert_id] = AlertState(
            status=DECISIONS[e.type],
            by=e.facts.get("actor"),
            role=e.facts.get("actor_role"),
            at=e.time,
            event_id=e.hub_id,
            reason=e.facts.get("reason"),
            meeting_date=e.facts.get("meeting_date"),
            recorded_after=frozenset(x.hub_id for x in p.timeline if x.recorded_at > e.time)
            if dismissed
            else frozenset(),
        )
    return out


def shown_status(p: FamilyTimeline, alert_id: str, triggering_event_ids: tuple[str, ...]) -> str:
    """How an alert is shown: "new" without a decision, else AlertState.effective."""
    state = alert_status(p).get(alert_id)
    return AlertStatus.NEW if state is None else state.effective(triggering_event_ids)
