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
    # Marac and the community Idva service are for victims 16 or over. The date of birth is
    # sealed with the identity, so the rules cannot read it: the assessor says the age here.
    victim_age: Annotated[int, Field(ge=0, le=120)] | None = Field(
        default=None,
        description="The victim's age in whole years on the day of the assessment, where "
        "known: under 16 points the case to children's safeguarding instead of Marac",
    )

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


class ActionType(StrEnum):
    """The Marac guidance's actions; ``housing`` (housing, unspecified) is kept for senders of
    the first version of marac.case_heard: prefer ``housing_victim`` or
    ``housing_perpetrator``."""

    flag_files = "flag_files"
    spoc = "spoc"
    joint_work = "joint_work"
    housing_victim = "housing_victim"
    housing_perpetrator = "housing_perpetrator"
    pre_sentence_report = "pre_sentence_report"
    dvds = "dvds"
    troubled_families = "troubled_families"
    refer_back_repeats = "refer_back_repeats"
    professionals_meeting = "professionals_meeting"
    other = "other"
    housing = "housing"


# Action text is shown to every agency at the meeting and travels open (it is not sealed):
# it says what is to be done, never who the person is.
ACTION_TEXT = "what is to be done, in words that name no one (it is shown to every agency)"


class MaracAction(Strict):
    """One action agreed at the hearing. The hub numbers each hearing's actions: the action
    id is ``<hearing hub id>.<n>`` (n from 1, in the order sent), which the owning agency
    names in ``marac.action.updated``."""

    action: ActionType
    owner_agency: Short
    text: Annotated[str, Field(max_length=500, description=ACTION_TEXT)] | None = None
    due_date: HubDate | None = Field(None, description="when the action is due (inclusive)")


class MaracHearing(Strict):
    """The hearing itself: what a Marac chair records on the meeting page and an agency's
    Marac system sends in marac.case_heard (one validation for both)."""

    meeting_date: HubDate
    area: Short
    repeat: bool = False
    agencies_present: Annotated[list[Short], Field(max_length=60)] = []
    risk_discussed: Literal["high", "medium", "standard"] | None = Field(
        None, description="the risk level the meeting agreed"
    )
    actions: Annotated[list[MaracAction], Field(max_length=60)] = []


class MaracCaseHeardData(MaracHearing, EventData):
    """A Marac meeting heard the case and agreed actions with owners and due dates."""


ACTION_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[1-9][0-9]?$"


class MaracActionUpdatedData(EventData):
    """The owning agency moves a Marac action on: in progress, done, or not possible (with
    the reason). Name the victim of the case; "done" closes the action, not the case."""

    action_id: Annotated[str, Field(pattern=ACTION_ID)] = Field(
        description="the action's id: <hearing hub id>.<n> (see marac.case_heard)"
    )
    state: Literal["in_progress", "done", "not_possible"]
    reason: Annotated[str, Field(min_length=3, max_length=500)] | None = Field(
        None, description="why the action is not possible (required then), naming no one"
    )

    @field_validator("subjects")
    @classmethod
    def _victim(cls, subjects: list[Subject]) -> list[Subject]:
        return exactly_one_victim(subjects)

    @model_validator(mode="after")
    def _reason_when_not_possible(self) -> MaracActionUpdatedData:
        if self.state == "not_possible" and not self.reason:
            raise ValueError("say why the action is not possible: give a reason")
        return self


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


class ClosureReason(StrEnum):
    """Why support ended, in words that never blame the victim (DOMAIN.md): a person who did
    not take up the service is someone "we were not able to engage", never "refused"."""

    support_completed = "support_completed"  # the support plan was completed
    client_chose_to_end = "client_chose_to_end"  # the client chose to end support
    not_able_to_engage = "not_able_to_engage"  # we were not able to engage the client
    moved_out_of_area = "moved_out_of_area"
    passed_to_another_service = "passed_to_another_service"
    other = "other"


Change = Literal["stopped", "reduced", "same", "increased", "not_known"]


class ExitOutcomes(Strict):
    """What the service measured when support ended (SafeLives Insights-style exit form).
    Every field is optional: send what was measured; what is left out is "not recorded"."""

    abuse: Annotated[dict[AbuseType, Change], Field(max_length=6)] = Field(
        default_factory=dict,
        description="per abuse type present at intake: stopped, reduced, same, increased or "
        "not known at exit",
    )
    feels_safer: Literal["yes", "no", "not_known"] | None = Field(
        None, description="the client says they feel safer"
    )
    wellbeing: Literal["improved", "same", "worse", "not_known"] | None = Field(
        None, description="the client's wellbeing (quality of life) compared with intake"
    )
    children_exposure: Change | Literal["no_children"] | None = Field(
        None, description="children's exposure to the abuse compared with intake"
    )
    childrens_social_care: (
        Literal["none", "early_help", "child_in_need", "child_protection", "looked_after"] | None
    ) = Field(None, description="children's social care involvement at exit")
    engagement: Literal["throughout", "part", "not_able_to_engage"] | None = Field(
        None,
        description="how far the service was able to engage the client (not_able_to_engage: "
        "we were not able to engage the client into the service)",
    )


class CaseClosedData(EventData):
    """Closing is a decision by a person: the hub never closes a case for missed contact.
    v2: the reason support ended and the outcomes measured at exit (v1 events have neither:
    they read as not recorded)."""

    outcome: Literal["continue", "onward_referral", "exit"]
    onward_to: Short | None = None
    reason: ClosureReason | None = Field(None, description="why support ended")
    exit: ExitOutcomes | None = Field(
        None, description="outcomes measured at exit (with outcome exit or onward_referral)"
    )

    @model_validator(mode="after")
    def _exit_when_support_ends(self) -> CaseClosedData:
        if self.exit is not None and self.outcome == "continue":
            raise ValueError(
                "exit outcomes are measured when support ends: send them with outcome "
                "'exit' or 'onward_referral', not 'continue'"
            )
        return self
