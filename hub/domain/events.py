"""The canonical event: what the hub stores and distributes after ingress.

It holds subject tokens in place of people, never a name or an identifier in clear.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.contract.versions import CURRENT_VERSION, upcast

# Namespace for deterministic hub ids (uuid5); fixed forever, changing it re-keys everything.
HUB_NAMESPACE = uuid.UUID("6f1c1d8e-55a4-4d0b-9d4e-2f0e0b1a7c11")


def hub_event_id(agency_id: str, source_event_id: str) -> str:
    """The hub's id for an agency's event: stable, so a resend maps to the same id."""
    return str(uuid.uuid5(HUB_NAMESPACE, f"event\0{agency_id}\0{source_event_id}"))


@dataclass(frozen=True)
class Unsealed:
    """A value ingress marks to be sealed under a subject's data key. The event store seals
    it in the transaction that stores the event, with the key read or made there (one
    query per batch, and a new key commits with the data it seals). It does not serialise,
    so an unsealed value can never be written to the store or to Kafka."""

    token: str  # whose data key seals it
    field: str  # the label the sealed value is bound to (with the event's hub id)
    value: Any


@dataclass(frozen=True)
class SubjectRef:
    """A person named by an event, by token. ``token`` is the strongest identifier's token;
    ``ids`` every strong identifier's token when there are several (the person index joins
    them); ``weak`` a keyed token of name, date of birth and postcode, for possible matches
    only; ``sealed`` the name and date of birth sent, encrypted under the subject's key."""

    token: str
    role: str
    ids: tuple[str, ...] = ()
    weak: str | None = None
    # name and date of birth, sealed (hub/adapters/crypto/vault.py)
    sealed: dict[str, str] | Unsealed | None = None
    school: str | None = None  # a child's school, by agency id (Operation Encompass)

    @property
    def all_tokens(self) -> tuple[str, ...]:
        return (self.token, *(t for t in self.ids if t != self.token))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"role": self.role, "token": self.token}
        if self.ids:
            body["ids"] = list(self.ids)
        if self.weak:
            body["weak"] = self.weak
        if self.sealed:
            body["sealed"] = self.sealed
        if self.school:
            body["school"] = self.school
        return body

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubjectRef:
        return cls(
            d["token"], d["role"], tuple(d.get("ids", ())), d.get("weak"), d.get("sealed"),
            d.get("school"),
        )  # fmt: skip


# Events naming nobody (clock ticks) are keyed and sealed under this.
NO_SUBJECT = "hub"


def primary_token(subjects: tuple[SubjectRef, ...]) -> str:
    """The victim's token or, for events naming no victim, the first subject's: the key the
    event is processed under, and whose data key seals its sensitive fields."""
    if not subjects:
        return NO_SUBJECT
    return next((s.token for s in subjects if s.role == "victim"), subjects[0].token)


@dataclass(frozen=True)
class CanonicalEvent:
    hub_id: str
    source_id: str
    agency_id: str
    agency_type: str
    type: str
    time: datetime
    recorded_at: datetime
    lawful_basis: str | None
    consent_ref: str | None
    subjects: tuple[SubjectRef, ...]
    data: dict[str, Any] = field(default_factory=dict)
    schema_version: int = 1
    sent_at: datetime | None = None
    case_token: str | None = None  # the sender's case reference, tokenised

    def __post_init__(self) -> None:
        # One clock for everything stored and compared: UTC instants.
        for name in ("time", "recorded_at", "sent_at"):
            value: datetime | None = getattr(self, name)
            if value is None:
                continue
            if value.tzinfo is None:
                raise ValueError(f"{name} must carry a UTC offset")
            object.__setattr__(self, name, value.astimezone(UTC))

    @property
    def victim_token(self) -> str:
        return primary_token(self.subjects)

    def to_json(self) -> str:
        body = {
            "hub_id": self.hub_id,
            "source_id": self.source_id,
            "agency_id": self.agency_id,
            "agency_type": self.agency_type,
            "type": self.type,
            "time": self.time.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "lawful_basis": self.lawful_basis,
            "consent_ref": self.consent_ref,
            "subjects": [s.to_dict() for s in self.subjects],
            "data": self.data,
            "schema_version": self.schema_version,
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
            "case_token": self.case_token,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CanonicalEvent:
        """Read a stored event, upcasting its data if it was written to an older version."""
        body = json.loads(raw)
        version = int(body.get("schema_version", 1))
        sent = body.get("sent_at")
        return cls(
            hub_id=body["hub_id"],
            source_id=body["source_id"],
            agency_id=body["agency_id"],
            agency_type=body["agency_type"],
            type=body["type"],
            time=datetime.fromisoformat(body["time"]),
            recorded_at=datetime.fromisoformat(body["recorded_at"]),
            lawful_basis=body["lawful_basis"],
            consent_ref=body["consent_ref"],
            subjects=tuple(SubjectRef.from_dict(s) for s in body["subjects"]),
            data=upcast(body["type"], version, body["data"]),
            schema_version=CURRENT_VERSION.get(body["type"], version),
            sent_at=None if sent is None else datetime.fromisoformat(sent),
            case_token=body.get("case_token"),
        )
