"""The event contract agencies send: a CloudEvents 1.0 style envelope and one payload per type.

Version 1 of the contract carries three event types (police incident, Dash risk assessment,
referral). People are named in ``data.subjects``; the hub replaces them with subject tokens
at ingress, so nothing below this module sees a personal identifier.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class LawfulBasis(StrEnum):
    """Lawful bases an agency may cite for sharing (UK GDPR Art 6, DPA 2018 Part 3)."""

    consent = "ukgdpr-6-1-a"
    legal_obligation = "ukgdpr-6-1-c"
    public_task = "ukgdpr-6-1-e"
    recognised_legitimate_interest = "ukgdpr-6-1-ea"
    law_enforcement = "dpa2018-part3"


class Role(StrEnum):
    victim = "victim"
    perpetrator = "perpetrator"
    child = "child"
    household_member = "household_member"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Identifiers(_Strict):
    """At least one identifier. Strong ones resolve across agencies; agency_ref only within one."""

    nhs_number: Annotated[str, Field(pattern=r"^\d{10}$")] | None = None
    pnc_id: Annotated[str, Field(min_length=4, max_length=20)] | None = None
    local_authority_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    agency_ref: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Identifiers:
        if not any((self.nhs_number, self.pnc_id, self.local_authority_id, self.agency_ref)):
            raise ValueError(
                "give at least one identifier: nhs_number, pnc_id, local_authority_id "
                "or agency_ref (your own record number)"
            )
        return self


class Subject(_Strict):
    """A person the event is about. Name and date of birth are never stored in clear."""

    role: Role
    identifiers: Identifiers
    name: Annotated[str, Field(max_length=200)] | None = None
    date_of_birth: str | None = None


class AbuseType(StrEnum):
    physical = "physical"
    sexual = "sexual"
    coercive_control = "coercive_control"
    harassment_stalking = "harassment_stalking"
    honour_based = "honour_based"
    economic = "economic"


class _Data(_Strict):
    subjects: Annotated[list[Subject], Field(min_length=1, max_length=20)]

    @field_validator("subjects")
    @classmethod
    def _one_victim(cls, subjects: list[Subject]) -> list[Subject]:
        victims = [s for s in subjects if s.role is Role.victim]
        if len(victims) != 1:
            raise ValueError(f"name exactly one subject with role 'victim' (found {len(victims)})")
        return subjects


class PoliceIncidentData(_Data):
    abuse_types: Annotated[list[AbuseType], Field(min_length=1)]
    injuries: bool = False
    children_present: bool = False
    weapon: bool = False
    arrest: bool = False
    breach_of_order: bool = False


DashAnswer = Literal["yes", "no", "not_known"]


class DashRiskAssessmentData(_Data):
    answers: Annotated[list[DashAnswer], Field(min_length=24, max_length=24)]
    score: Annotated[int, Field(ge=0, le=24)] | None = None
    assessor_role: Annotated[str, Field(min_length=1, max_length=60)]
    professional_judgement: bool = False

    @model_validator(mode="after")
    def _score_matches(self) -> DashRiskAssessmentData:
        counted = self.answers.count("yes")
        if self.score is not None and self.score != counted:
            raise ValueError(
                f"score {self.score} does not match the {counted} 'yes' answers; "
                "send the count of 'yes' answers or leave score out"
            )
        return self


class ReferralTo(StrEnum):
    marac = "marac"
    idva = "idva"
    community_idva = "community_idva"
    complex_needs = "complex_needs"
    childrens_services = "childrens_services"
    adult_safeguarding = "adult_safeguarding"
    housing = "housing"
    substance_misuse = "substance_misuse"
    mental_health = "mental_health"
    perpetrator_programme = "perpetrator_programme"


class ReferralMadeData(_Data):
    to: ReferralTo
    professional_judgement: bool = False
    consent_status: Literal["given", "refused", "not_sought", "not_known"] = "not_known"


class _Envelope(_Strict):
    specversion: Literal["1.0"]
    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
    source: Annotated[str, Field(min_length=1, max_length=256)]
    time: datetime = Field(description="When the thing happened (event time), with a UTC offset")
    datacontenttype: Literal["application/json"] = "application/json"
    lawfulbasis: LawfulBasis | None = None
    consentref: Annotated[str, Field(min_length=1, max_length=128)] | None = None

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with a UTC offset, e.g. 2026-01-31T09:30:00Z")
        return value

    @model_validator(mode="after")
    def _basis_present(self) -> _Envelope:
        if self.lawfulbasis is None and self.consentref is None:
            raise ValueError("give a lawfulbasis or a consentref: sharing needs a recorded basis")
        if self.lawfulbasis is LawfulBasis.consent and self.consentref is None:
            raise ValueError("lawfulbasis 'ukgdpr-6-1-a' (consent) needs a consentref")
        return self


class PoliceIncident(_Envelope):
    type: Literal["police.incident"]
    data: PoliceIncidentData


class DashRiskAssessment(_Envelope):
    type: Literal["risk.dash"]
    data: DashRiskAssessmentData


class ReferralMade(_Envelope):
    type: Literal["referral.made"]
    data: ReferralMadeData


IncomingEvent = Annotated[
    PoliceIncident | DashRiskAssessment | ReferralMade, Field(discriminator="type")
]
EVENT_TYPES: tuple[str, ...] = ("police.incident", "risk.dash", "referral.made")
