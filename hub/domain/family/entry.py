"""One event as a family's timeline holds it: people as person ids, and only open facts.

Sealed fields (``{"$enc": ...}``) never enter a projection; where a rule needs to know that a
sealed field was given (a professional-judgement referral's stated concern) the entry holds
that yes/no only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.events import CanonicalEvent
from hub.domain.internal import HubEventType

HUB = "hub"  # agency type of the hub's own events (alert lifecycle, identity, clock)

# The open fields each event type keeps; answers, free text and health detail are left out.
FACT_FIELDS: dict[str, tuple[str, ...]] = {
    EventType.POLICE_INCIDENT: (
        "abuse_types", "injuries", "children_present", "children_ages", "weapon", "arrest",
        "orders", "breach_of_order",
    ),
    EventType.HEALTH_ATTENDANCE: ("setting", "injury", "da_question_asked", "da_disclosed"),
    EventType.MARKER_ADDED: ("marker", "since"),
    EventType.MARKER_REMOVED: ("marker", "reason"),
    EventType.REFERRAL_MADE: ("to", "professional_judgement", "consent_status"),
    EventType.RISK_DASH: (
        "score", "professional_judgement", "victim_view", "assessor_role", "victim_age",
    ),
    EventType.CONTACT_ATTEMPTED: ("method", "outcome", "safe_to_contact"),
    EventType.NEEDS_IDENTIFIED: ("needs",),
    EventType.MARAC_CASE_HEARD: (
        "meeting_date", "area", "repeat", "agencies_present", "risk_discussed", "actions",
        "actor", "actor_role",
    ),
    EventType.MARAC_ACTION_UPDATED: ("action_id", "state", "reason"),
    EventType.CONSENT_RECORDED: ("decision", "method", "recorded_by_role", "valid_until"),
    EventType.CONSENT_WITHDRAWN: ("consent_ref", "method"),
    EventType.RELATIONSHIP_DECLARED: ("relation",),
    EventType.CASE_CLOSED: ("outcome", "onward_to", "reason", "exit"),
    HubEventType.ALERT_ACKNOWLEDGED: ("alert_id", "actor", "actor_role"),
    HubEventType.ALERT_AGENDA_ADDED: ("alert_id", "actor", "actor_role", "meeting_date"),
    HubEventType.ALERT_DISMISSED: ("alert_id", "actor", "actor_role", "reason"),
    HubEventType.MATCH_CONFIRMED: ("match_id", "actor", "actor_role", "reason"),
    HubEventType.MATCH_REJECTED: ("match_id", "actor", "actor_role", "reason"),
    HubEventType.MATCH_UNDONE: ("match_id", "actor", "actor_role", "reason"),
}  # fmt: skip


def sealed(value: Any) -> bool:
    return isinstance(value, dict) and "$enc" in value


def _open(value: Any) -> bool:
    """JSON scalars and lists/tables of them, nothing sealed anywhere inside."""
    if isinstance(value, list):
        return all(_open(v) for v in value)
    if isinstance(value, dict):
        return not sealed(value) and all(_open(v) for v in value.values())
    return value is None or isinstance(value, str | int | float | bool)


def facts_of(e: CanonicalEvent) -> dict[str, Any]:
    """The open facts of an event (types not listed keep their open top-level fields)."""
    names = FACT_FIELDS.get(e.type, tuple(e.data))
    facts = {n: e.data[n] for n in names if n in e.data and _open(e.data[n])}
    if e.type == EventType.RISK_DASH and facts.get("score") is None:
        facts["score"] = list(e.data.get("answers", ())).count("yes")
    if e.type in (EventType.REFERRAL_MADE, EventType.RISK_DASH):
        facts["professional_judgement"] = bool(e.data.get("professional_judgement"))
    if e.type == EventType.RISK_DASH and facts["professional_judgement"]:
        facts["judgement_raised_to"] = e.data.get("judgement_raised_to") or "high"
    if e.type == EventType.REFERRAL_MADE:
        facts["concern_stated"] = e.data.get("concern") is not None
    return facts


@dataclass(frozen=True, slots=True)
class Subject:
    person_id: str
    role: str
    token: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One event in a family's timeline."""

    hub_id: str
    time: datetime
    recorded_at: datetime
    type: str
    agency_id: str
    agency_type: str
    lawful_basis: str | None
    subjects: tuple[Subject, ...]
    facts: Mapping[str, Any]

    def __hash__(self) -> int:  # one entry per hub id; facts (a dict) are not hashable
        return hash(self.hub_id)

    @property
    def key(self) -> tuple[datetime, str]:
        """Timeline order: event time, then hub id, so arrival order never matters."""
        return (self.time, self.hub_id)

    @property
    def internal(self) -> bool:
        return self.agency_type == HUB

    def persons(self, role: str | None = None) -> tuple[str, ...]:
        return tuple(s.person_id for s in self.subjects if role is None or s.role == role)

    def names(self, person: str, role: str | None = None) -> bool:
        return person in self.persons(role)

    def names_any(self, persons: Iterable[str], role: str | None = None) -> bool:
        return not set(persons).isdisjoint(self.persons(role))

    def about(self) -> tuple[str, ...]:
        """Whom the event is about: its victims, or else its first subject."""
        victims = self.persons("victim")
        if victims:
            return victims
        return (self.subjects[0].person_id,) if self.subjects else ()

    def is_about(self, person: str) -> bool:
        return person in self.about()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hub_id": self.hub_id,
            "time": self.time.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "type": self.type,
            "agency_id": self.agency_id,
            "agency_type": self.agency_type,
            "lawful_basis": self.lawful_basis,
            "subjects": [
                {"person_id": s.person_id, "role": s.role, "token": s.token} for s in self.subjects
            ],
            "facts": dict(self.facts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Entry:
        return cls(
            hub_id=d["hub_id"],
            time=datetime.fromisoformat(d["time"]),
            recorded_at=datetime.fromisoformat(d["recorded_at"]),
            type=d["type"],
            agency_id=d["agency_id"],
            agency_type=d["agency_type"],
            lawful_basis=d["lawful_basis"],
            subjects=tuple(Subject(s["person_id"], s["role"], s["token"]) for s in d["subjects"]),
            facts=dict(d["facts"]),
        )


def entry_of(e: CanonicalEvent, person_of: Mapping[str, str]) -> Entry:
    """The timeline entry of an event; a token missing from person_of is its own person."""
    return Entry(
        hub_id=e.hub_id,
        time=e.time,
        recorded_at=e.recorded_at,
        type=e.type,
        agency_id=e.agency_id,
        agency_type=e.agency_type,
        lawful_basis=e.lawful_basis,
        subjects=tuple(
            Subject(person_of.get(s.token, s.token), s.role, s.token) for s in e.subjects
        ),
        facts=facts_of(e),
    )
