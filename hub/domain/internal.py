"""The hub's own events: decisions people take in the hub (alert lifecycle, identity matches)
and the clock that drives time rules. They are stored and distributed like agency events, so
they appear in a family's timeline and a replay reproduces them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id

HUB_AGENCY = "hub"
# Internal events rest on the hub's public task (UK GDPR Art 6(1)(e)).
HUB_BASIS = "ukgdpr-6-1-e"


class HubEventType(StrEnum):
    """The hub's own event types (agency-sent ones are hub.contract.EventType)."""

    ALERT_ACKNOWLEDGED = "hub.alert.acknowledged"
    ALERT_AGENDA_ADDED = "hub.alert.agenda_added"
    ALERT_DISMISSED = "hub.alert.dismissed"
    MATCH_CONFIRMED = "hub.identity.match_confirmed"
    MATCH_REJECTED = "hub.identity.match_rejected"
    MATCH_UNDONE = "hub.identity.match_undone"
    CLOCK_TICKED = "hub.clock.ticked"


# Short names the rest of the hub uses for the members above.
ALERT_ACKNOWLEDGED = HubEventType.ALERT_ACKNOWLEDGED
ALERT_AGENDA_ADDED = HubEventType.ALERT_AGENDA_ADDED
ALERT_DISMISSED = HubEventType.ALERT_DISMISSED
ALERT_ACTIONS = (ALERT_ACKNOWLEDGED, ALERT_AGENDA_ADDED, ALERT_DISMISSED)

MATCH_CONFIRMED = HubEventType.MATCH_CONFIRMED
MATCH_REJECTED = HubEventType.MATCH_REJECTED
MATCH_UNDONE = HubEventType.MATCH_UNDONE
MATCH_DECISIONS = (MATCH_CONFIRMED, MATCH_REJECTED, MATCH_UNDONE)

CLOCK_TICKED = HubEventType.CLOCK_TICKED

INTERNAL_TYPES = (*ALERT_ACTIONS, *MATCH_DECISIONS, CLOCK_TICKED)


def internal_event(
    event_type: str,
    source_id: str,
    time: datetime,
    subjects: tuple[SubjectRef, ...],
    data: dict[str, Any],
) -> CanonicalEvent:
    """A hub event; ``source_id`` makes it idempotent (the same decision stored once)."""
    if event_type not in INTERNAL_TYPES:
        raise ValueError(f"unknown internal event type {event_type!r}")
    return CanonicalEvent(
        hub_id=hub_event_id(HUB_AGENCY, source_id),
        source_id=source_id,
        agency_id=HUB_AGENCY,
        agency_type=HUB_AGENCY,
        type=event_type,
        time=time,
        recorded_at=time,
        lawful_basis=HUB_BASIS,
        consent_ref=None,
        subjects=subjects,
        data=data,
    )


def clock_tick(at: datetime) -> CanonicalEvent:
    """The clock advanced to ``at``: time rules are evaluated as of it."""
    return internal_event(
        CLOCK_TICKED, f"clock:{at.isoformat()}", at, (), {"clock": at.isoformat()}
    )
