"""The envelope: CloudEvents 1.0 attribute names plus the hub's extensions.

CloudEvents: specversion, id, source, type, time (when the thing happened: event time),
subject, datacontenttype, dataschema. Extensions: agency (the sender's agency id, checked
against its credential), lawfulbasis, consentref, senttime (when the agency's system sent
it, distinct from event time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

import hub.contract.payloads as p
from hub.contract.common import EARLIEST_TIME, LawfulBasis, Strict
from hub.contract.versions import UnknownSchema, upcast, version_of


class Envelope(Strict):
    specversion: Literal["1.0"]
    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")] = Field(
        description="Unique per sending agency; a resend with the same id is stored once"
    )
    source: Annotated[str, Field(min_length=1, max_length=256)] = Field(
        description="URI of the sending system, e.g. urn:hub:agency:<agency>/<system>"
    )
    time: datetime = Field(description="When the thing happened (event time), with a UTC offset")
    senttime: datetime | None = Field(None, description="When the sending system sent it")
    subject: Annotated[str, Field(max_length=128)] | None = Field(
        None, description="The sender's case reference (never a name); stored only as a token"
    )
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(
        None, description="urn:hub:schema:<type>:v<n>; absent means the current version"
    )
    agency: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="Your agency id; if given it must match the credential used"
    )
    lawfulbasis: LawfulBasis | None = Field(
        None, description="The basis for sharing; required unless consentref is given"
    )
    consentref: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="Reference of the consent relied on (required with ukgdpr-6-1-a)"
    )

    @model_validator(mode="before")
    @classmethod
    def _upcast_older_versions(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            return raw
        if not isinstance(raw.get("dataschema"), str | None):
            return raw  # the field's own validation names it (it was a 500: issue 12)
        event_type = cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        try:
            version = version_of(event_type, raw.get("dataschema"))
        except UnknownSchema as exc:
            raise ValueError(str(exc)) from None
        return {**raw, "data": upcast(event_type, version, raw["data"])}

    @field_validator("time", "senttime", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("give the time as RFC 3339 text, e.g. 2026-01-31T09:30:00Z")
        return value

    @field_validator("time", "senttime")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with a UTC offset, e.g. 2026-01-31T09:30:00Z")
        if value is not None and value < EARLIEST_TIME:
            raise ValueError(
                f"give a time from {EARLIEST_TIME.date()} on; {value.date()} is not a date the "
                "hub can hold a record for"
            )
        return value

    @model_validator(mode="after")
    def _basis_present(self) -> Envelope:
        if self.lawfulbasis is None and self.consentref is None:
            raise ValueError("give a lawfulbasis or a consentref: sharing needs a recorded basis")
        if self.lawfulbasis is LawfulBasis.consent and self.consentref is None:
            raise ValueError("lawfulbasis 'ukgdpr-6-1-a' (consent) needs a consentref")
        return self


class PoliceIncident(Envelope):
    type: Literal["police.incident"]
    data: p.PoliceIncidentData


class HealthAttendance(Envelope):
    type: Literal["health.attendance"]
    data: p.HealthAttendanceData


class MarkerAdded(Envelope):
    type: Literal["marker.added"]
    data: p.MarkerAddedData


class MarkerRemoved(Envelope):
    type: Literal["marker.removed"]
    data: p.MarkerRemovedData


class ReferralMade(Envelope):
    type: Literal["referral.made"]
    data: p.ReferralMadeData


class DashRiskAssessment(Envelope):
    type: Literal["risk.dash"]
    data: p.DashRiskAssessmentData


class ContactAttempted(Envelope):
    type: Literal["contact.attempted"]
    data: p.ContactAttemptedData


class NeedsIdentified(Envelope):
    type: Literal["needs.identified"]
    data: p.NeedsIdentifiedData


class MaracCaseHeard(Envelope):
    type: Literal["marac.case_heard"]
    data: p.MaracCaseHeardData


class MaracActionUpdated(Envelope):
    type: Literal["marac.action.updated"]
    data: p.MaracActionUpdatedData


class ConsentRecorded(Envelope):
    type: Literal["consent.recorded"]
    data: p.ConsentRecordedData


class ConsentWithdrawn(Envelope):
    type: Literal["consent.withdrawn"]
    data: p.ConsentWithdrawnData


class RelationshipDeclared(Envelope):
    type: Literal["relationship.declared"]
    data: p.RelationshipDeclaredData


class CaseClosed(Envelope):
    type: Literal["case.closed"]
    data: p.CaseClosedData


EVENT_CLASSES: tuple[type[Envelope], ...] = (
    PoliceIncident,
    HealthAttendance,
    MarkerAdded,
    MarkerRemoved,
    ReferralMade,
    DashRiskAssessment,
    ContactAttempted,
    NeedsIdentified,
    MaracCaseHeard,
    MaracActionUpdated,
    ConsentRecorded,
    ConsentWithdrawn,
    RelationshipDeclared,
    CaseClosed,
)

Incoming = (
    PoliceIncident
    | HealthAttendance
    | MarkerAdded
    | MarkerRemoved
    | ReferralMade
    | DashRiskAssessment
    | ContactAttempted
    | NeedsIdentified
    | MaracCaseHeard
    | MaracActionUpdated
    | ConsentRecorded
    | ConsentWithdrawn
    | RelationshipDeclared
    | CaseClosed
)
IncomingEvent = Annotated[Incoming, Field(discriminator="type")]


def event_type_of(cls: type[Envelope]) -> str:
    return str(cls.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


EVENT_TYPES: tuple[str, ...] = tuple(event_type_of(c) for c in EVENT_CLASSES)
CLASS_BY_TYPE: dict[str, type[Envelope]] = {event_type_of(c): c for c in EVENT_CLASSES}
