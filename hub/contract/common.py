"""Parts shared by every event type: people, lawful bases, sensitivity marks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Fields carrying health detail or free text are encrypted at ingress with the data key of
# the event's primary subject; this mark in the schema is what ingress looks for.
SENSITIVE: dict[str, Any] = {"x-hub-sensitive": True}


def sensitive(description: str, max_length: int | None = None) -> Any:
    """A sealed field (max_length for free text)."""
    return Field(None, max_length=max_length, description=description, json_schema_extra=SENSITIVE)


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
    other = "other"


# The range of dates and event times the hub accepts. Records of abuse reach back decades, not
# centuries; a date outside the range is a typing or export error, and near the ends of the
# calendar (year 1 or 9999) date arithmetic in the rules would overflow. The upper end of an
# event's time is the future tolerance at ingress, not this.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)

HubDate = Annotated[
    date,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"a date from {EARLIEST_DATE} to {LATEST_DATE}",
    ),
]


def _nul_free(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list | tuple):
        return all(_nul_free(v) for v in value if not isinstance(v, BaseModel))
    return True


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # NUL cannot be stored in PostgreSQL text and is never meant in an agency's record;
        # nested models check their own fields.
        if not _nul_free(value):
            raise ValueError("remove the NUL character (\\u0000) from this text")
        return value


class Identifiers(Strict):
    """At least one identifier. Strong ones resolve across agencies; agency_ref only within one."""

    # The JSON Schema says what the validator below enforces, so a schema-driven client can
    # build a valid subject: at least one of the identifiers, given as a string.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [kind], "properties": {kind: {"type": "string"}}}
                for kind in ("nhs_number", "pnc_id", "local_authority_id", "agency_ref")
            ]
        }
    )

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


class Subject(Strict):
    """A person the event is about. Name, date of birth and postcode are never stored in
    clear: name and date of birth are sealed in the vault, and the three together only form a
    keyed token that finds possible matches."""

    role: Role
    identifiers: Identifiers
    name: Annotated[str, Field(max_length=200)] | None = None
    date_of_birth: str | None = None
    postcode: Annotated[str, Field(max_length=10)] | None = Field(
        None, description="with name and date of birth, finds possible matches (never merged alone)"
    )
    school: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None,
        description="a child's school, by its agency id in the hub: Operation Encompass tells "
        "that school (role child only)",
    )

    @model_validator(mode="after")
    def _school_for_a_child(self) -> Subject:
        if self.school is not None and self.role != Role.child:
            raise ValueError("only a child names a school: leave out 'school' for this role")
        return self


Subjects = Annotated[list[Subject], Field(min_length=1, max_length=20)]


class EventData(Strict):
    """Base of every payload: the people it is about."""

    subjects: Subjects

    @field_validator("subjects")
    @classmethod
    def _each_person_once(cls, subjects: list[Subject]) -> list[Subject]:
        return each_person_once(subjects)


IDENTIFIER_KINDS = ("nhs_number", "pnc_id", "local_authority_id", "agency_ref")


def each_person_once(subjects: list[Subject]) -> list[Subject]:
    """One person named as two subjects (a victim who is their own perpetrator) is an error."""
    seen: dict[tuple[str, str], int] = {}
    for i, subject in enumerate(subjects):
        for kind in IDENTIFIER_KINDS:
            value = getattr(subject.identifiers, kind)
            if value is None:
                continue
            first = seen.setdefault((kind, value), i)
            if first != i:
                raise ValueError(
                    f"subjects {first} ({subjects[first].role.value}) and {i} "
                    f"({subject.role.value}) have the same {kind}: name each person once, "
                    "with one role"
                )
    return subjects


def exactly_one_victim(subjects: list[Subject]) -> list[Subject]:
    victims = [s for s in subjects if s.role is Role.victim]
    if len(victims) != 1:
        raise ValueError(f"name exactly one subject with role 'victim' (found {len(victims)})")
    return subjects


def exactly(n: int, subjects: list[Subject], what: str) -> list[Subject]:
    if len(subjects) != n:
        raise ValueError(f"name exactly {n} subject{'s' if n > 1 else ''}: {what}")
    return subjects
