"""The alert lifecycle as commands: which decision a chair or coordinator may take on an alert
in each status, and the hub event (hub.alert.*) that records it.

    status now    acknowledge   agenda                       dismiss (reason)
    new, reopened acknowledged  on_agenda                    dismissed
    acknowledged  409           on_agenda                    dismissed
    on_agenda     409           on_agenda (another date)     dismissed
    dismissed     409           on_agenda (reconsidered)     409

- "reopened" (dismissed, then a triggering event reached the hub after the dismissal) is new
  again: every decision may be taken on it.
- acknowledge: only a new alert (acknowledging one already on the agenda would take it off,
  because the latest decision is the alert's status).
- agenda: a new, acknowledged or dismissed alert, or one on the agenda for another meeting
  date (moved to that meeting).
- dismiss (with a reason): anything not dismissed already; dismissing twice is a 409, so the
  first reason stands.

The worker's projector derives the status from these events (hub.domain.family
``alert_status``), so the alerts table lags a decision by the time the event takes through the
broker. A decision's source id is ``alert:<alert id>:<verb>:<alert revision>``: a decision
taken on the alert as it stands now is stored at most once (a retried request is answered the
same, with ``Hub-Duplicate``), and decisions stored but not yet applied are found by id, so the
transition check never depends on that lag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hub.domain import internal
from hub.domain.alerts import AlertStatus
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id


@dataclass(frozen=True)
class Action:
    verb: str
    event_type: str
    status: str  # the status the alert has once the decision is applied


ACTIONS = {
    "acknowledge": Action("acknowledge", internal.ALERT_ACKNOWLEDGED, AlertStatus.ACKNOWLEDGED),
    "agenda": Action("agenda", internal.ALERT_AGENDA_ADDED, AlertStatus.ON_AGENDA),
    "dismiss": Action("dismiss", internal.ALERT_DISMISSED, AlertStatus.DISMISSED),
}
STATUS_OF_TYPE = {a.event_type: a.status for a in ACTIONS.values()}


class LifecycleConflict(Exception):
    """The alert's status does not allow the decision; the message says why and what to do."""


def source_id(alert_id: str, verb: str, revision: int) -> str:
    return f"alert:{alert_id}:{verb}:{revision}"


def pending_ids(alert_id: str, revision: int) -> list[str]:
    """Hub ids the decisions taken on this revision of the alert would have."""
    return [
        hub_event_id(internal.HUB_AGENCY, source_id(alert_id, verb, revision)) for verb in ACTIONS
    ]


def detail_of(event: CanonicalEvent) -> dict[str, Any]:
    """A decision event as the alerts table's status_detail shows it (AlertState's shape)."""
    return {
        "status": STATUS_OF_TYPE[event.type],
        "by": event.data.get("actor"),
        "role": event.data.get("actor_role"),
        "at": event.time.isoformat(),
        "event_id": event.hub_id,
        "reason": event.data.get("reason"),
        "meeting_date": event.data.get("meeting_date"),
    }


def alert_status_now(
    status: str, detail: dict[str, Any], pending: Iterable[CanonicalEvent]
) -> tuple[str, dict[str, Any]]:
    """The alert's status counting decisions stored but not yet applied: the latest wins."""
    waiting = sorted(
        (e for e in pending if e.type in STATUS_OF_TYPE and e.hub_id != detail.get("event_id")),
        key=lambda e: (e.time, e.hub_id),
    )
    if not waiting:
        return status, detail
    latest = detail_of(waiting[-1])
    applied_at = detail.get("at")
    if applied_at is not None and datetime.fromisoformat(applied_at) > waiting[-1].time:
        return status, detail
    return latest["status"], latest


def _on(detail: dict[str, Any]) -> str:
    at = str(detail.get("at") or "")[:10]
    return f" on {at}" if at else ""


def check(verb: str, status: str, detail: dict[str, Any], meeting: date | None = None) -> None:
    """Raise LifecycleConflict when the decision does not fit the alert's status."""
    if verb == "acknowledge":
        if status == AlertStatus.ACKNOWLEDGED:
            raise LifecycleConflict(f"this alert was already acknowledged{_on(detail)}")
        if status == AlertStatus.ON_AGENDA:
            raise LifecycleConflict(
                "this alert is already on the Marac agenda; acknowledging it would take it off"
            )
        if status == AlertStatus.DISMISSED:
            raise LifecycleConflict(
                f"this alert was dismissed{_on(detail)}; to reconsider it, add it to the agenda"
            )
    elif verb == "agenda":
        wanted = None if meeting is None else meeting.isoformat()
        if status == AlertStatus.ON_AGENDA and detail.get("meeting_date") == wanted:
            when = f" for the meeting of {wanted}" if wanted else " for the next meeting"
            raise LifecycleConflict(f"this alert is already on the agenda{when}")
    elif verb == "dismiss":
        if status == AlertStatus.DISMISSED:
            raise LifecycleConflict(
                f"this alert was already dismissed{_on(detail)}; the first reason stands (it "
                "comes back as new if further events meet its rule)"
            )
    else:
        raise ValueError(f"unknown alert decision {verb!r}")


def acting_subject(
    victim_token: str, subject_tokens: Sequence[str], triggers: Sequence[CanonicalEvent]
) -> SubjectRef:
    """Whom the decision event is about: the alert's victim, or (an alert about a perpetrator
    only) the first perpetrator among its people, as the triggering events name them."""
    if victim_token:
        return SubjectRef(victim_token, "victim")
    concerned = set(subject_tokens)
    named = [s.token for e in triggers for s in e.subjects if s.role == "perpetrator"]
    chosen = next((t for t in named if t in concerned), named[0] if named else None)
    if chosen is None:
        chosen = sorted(concerned)[0] if concerned else internal.HUB_AGENCY
    return SubjectRef(chosen, "perpetrator")


def alert_decision_event(
    verb: str,
    alert_id: str,
    revision: int,
    subject: SubjectRef,
    actor: str,
    actor_role: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> CanonicalEvent:
    data = {"alert_id": alert_id, "actor": actor, "actor_role": actor_role, **(extra or {})}
    return internal.internal_event(
        ACTIONS[verb].event_type, source_id(alert_id, verb, revision), now, (subject,), data
    )


def alert_decision_hash(event: CanonicalEvent) -> str:
    """The decision without its time: a retried request is the same decision."""
    body = json.dumps({"type": event.type, "data": event.data}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
