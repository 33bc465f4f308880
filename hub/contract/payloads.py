"""The payload (``data``) of every event type in the catalogue, at its current version."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hub.contract.common import (
    EventData,
    HubDate,
    Strict,
    Subject,
    exactly,
    exactly_one_victim,
    sensitive,
)

Short = Annotated[str, Field(min_length=1, max_length=80)]


class AbuseType(StrEnum):
    physical = "physical"
    sexual = "sexual"
    coercive_control = "coercive_control"
    harassment_stalking = "harassment_stalking"
    honour_based = "honour_based"
    economic = "economic"


class OrderType(StrEnum):
    non_molestation = "non_molestation"
    occupation = "occupation"
    dvpn_dvpo = "dvpn_dvpo"
    restraining = "restraining"
    bail_conditions = "bail_conditions"


class PoliceIncidentData(EventData):
    """v2: `weapon` names what was involved (v1 had a yes/no), children's ages are given."""

    abuse_types: Annotated[list[AbuseType], Field(min_length=1)]
    injuries: bool = False
    children_present: bool = False
    children_ages: Annotated[list[Annotated[int, Field(ge=0, le=17)]], Field(max_length=15)] = []
    weapon: Literal["none", "weapon", "firearm"] = "none"
    arrest: bool = False
    orders: list[OrderType] = []
    breach_of_order: bool = False
    circumstances: str | None = sensitive("free-text account of what happened", max_length=4000)

    @field_validator("subjects")
    @classmethod
    def _victim(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly_one_victim(subjects)


class HealthAttendanceData(EventData):
    """An attendance at A&E, ambulance, midwifery or GP; health detail is sealed."""

    setting: Literal["ae", "ambulance", "midwifery", "gp", "other_health"]
    injury: bool = False
    da_question_asked: bool = False
    da_disclosed: Literal["yes", "no", "not_asked"] = "not_asked"
    pregnant: bool | None = sensitive("pregnancy at the time of attendance")
    substance_use: bool | None = sensitive("alcohol or drug use noted")
    self_harm: bool | None = sensitive("self-harm noted")
    clinical_notes: str | None = sensitive("free-text clinical detail", max_length=4000)

    @field_validator("subjects")
    @classmethod
    def _patient(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(1, subjects, "the patient")


class MarkerType(StrEnum):
    da_victim = "da_victim"
    da_perpetrator = "da_perpetrator"
    marac_case = "marac_case"
    child_safeguarding = "child_safeguarding"
    firearm = "firearm"
    high_risk_perpetrator = "high_risk_perpetrator"  # police: flag for DVDS review


class MarkerAddedData(EventData):
    """A flag put on a person's record, disclosed as \"marker present since <date>\"."""

    marker: MarkerType
    since: HubDate

    @field_validator("subjects")
    @classmethod
    def _one(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(1, subjects, "the person whose record carries the marker")


class MarkerRemovedData(EventData):
    """A flag taken off a person's record."""

    marker: MarkerType
    reason: Literal["no_longer_applies", "entered_in_error", "expired"]

    @field_validator("subjects")
    @classmethod
    def _one(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(1, subjects, "the person whose record carried the marker")


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


class ReferralMadeData(EventData):
    """A referral to a service or to Marac; professional judgement needs its concern."""

    to: ReferralTo
    professional_judgement: bool = False
    concern: str | None = sensitive(
        "the stated concern behind a professional-judgement referral", max_length=4000
    )
    consent_status: Literal["given", "refused", "not_sought", "not_known"] = "not_known"

    @model_validator(mode="after")
    def _concern_with_judgement(self) -> ReferralMadeData:
        if self.professional_judgement and not self.concern:
            raise ValueError("a professional-judgement referral needs its stated concern")
        return self


DashAnswer = Literal["yes", "no", "not_known"]


class DashRiskAssessmentData(EventData):
    """A SafeLives Dash checklist: 24 answers; the score is the count of 'yes'."""

    answers: Annotated[list[DashAnswer], Field(min_length=24, max_length=24)]
    score: Annotated[int, Field(ge=0, le=24)] | None = None
    assessor_role: Short
    professional_judgement: bool = False
    # The level the assessor's judgement raised the risk to: "medium" (a score below the
    # medium band) or "high" (a score below the high-risk threshold). Only "high" asks for a
    # Marac referral. professional_judgement true without it means "high", as it always has.
    judgement_raised_to: Literal["medium", "high"] | None = Field(
        default=None,
        description="With professional_judgement: the level it raised the risk to (medium "
        "routes to the community Idva, high asks for Marac); absent means high",
    )
    victim_view: Literal["high", "medium", "standard", "not_known"] = "not_known"

    @field_validator("subjects")
    @classmethod
    def _victim(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly_one_victim(subjects)

    @model_validator(mode="after")
    def _score_matches(self) -> DashRiskAssessmentData:
        if self.judgement_raised_to is not None and not self.professional_judgement:
            raise ValueError(
                "judgement_raised_to needs professional_judgement true: send both, or neither"
            )
        counted = self.answers.count("yes")
        if self.score is not None and self.score != counted:
            raise ValueError(
                f"score {self.score} does not match the {counted} 'yes' answers; "
                "send the count of 'yes' answers or leave score out"
            )
        return self


class ContactAttemptedData(EventData):
    """An attempt by a service to reach the person, and its outcome."""

    method: Literal["face_to_face", "phone", "text", "email", "online"]
    outcome: Literal["contact_made", "no_answer", "not_safe_to_leave_message", "not_able_to_engage"]
    safe_to_contact: bool | None = None


class Need(StrEnum):
    mental_health = "mental_health"
    drug_misuse = "drug_misuse"
    alcohol_misuse = "alcohol_misuse"
    housing = "housing"
    finances = "finances"
    disability = "disability"
    children_parenting = "children_parenting"


class NeedsIdentifiedData(EventData):
    """Needs a practitioner identified (mental health, substance misuse, housing, ...)."""

    needs: Annotated[list[Need], Field(min_length=1)]
    details: str | None = sensitive("free-text detail of the needs", max_length=4000)


class MaracAction(Strict):
    action: Literal["spoc", "flag_files", "housing", "dvds", "refer_back_repeats", "other"]
    owner_agency: Short


class MaracCaseHeardData(EventData):
    """A Marac meeting heard the case and agreed actions with owners."""

    meeting_date: HubDate
    area: Short
    repeat: bool = False
    actions: list[MaracAction] = []


class ConsentScope(Strict):
    purposes: Annotated[list[Short], Field(min_length=1)]
    recipients: list[Short] = []
    event_types: list[Short] = []


class ConsentRecordedData(EventData):
    """A person's consent decision, its scope and how it was recorded."""

    decision: Literal["given", "refused"]
    scope: ConsentScope
    method: Literal["verbal", "written", "digital"]
    recorded_by_role: Short
    valid_until: HubDate | None = None

    @field_validator("subjects")
    @classmethod
    def _one(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(1, subjects, "the person whose consent this is")


class ConsentWithdrawnData(EventData):
    """A person withdrew a consent they had given."""

    consent_ref: Short
    method: Literal["verbal", "written", "digital"]

    @field_validator("subjects")
    @classmethod
    def _one(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(1, subjects, "the person withdrawing consent")


class RelationshipDeclaredData(EventData):
    """Two subjects and their relation; for parent_child and carer the first is the parent or
    carer."""

    relation: Literal["partner", "ex_partner", "parent_child", "sibling", "household", "carer"]

    @field_validator("subjects")
    @classmethod
    def _two(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly(2, subjects, "the two related people")


class CaseClosedData(EventData):
    """Closing is a decision by a person: the hub never closes a case for missed contact."""

    outcome: Literal["continue", "onward_referral", "exit"]
    onward_to: Short | None = None
