"""The event contract: what an agency's event must look like to be accepted."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from hub.contract import (
    DashRiskAssessment,
    Identifiers,
    IncomingEvent,
    LawfulBasis,
    PoliceIncident,
    ReferralMade,
)
from hub.contract.examples import EXAMPLES
from tests import builders as b

ADAPTER: TypeAdapter[Any] = TypeAdapter(IncomingEvent)


def errors_of(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python(envelope)
    return caught.value.errors()


def only_error(envelope: dict[str, Any]) -> dict[str, Any]:
    errors = errors_of(envelope)
    assert len(errors) == 1, errors
    return errors[0]


def with_data(envelope: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {**envelope, "data": {**envelope["data"], **data}}


# --- valid events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "model"),
    [
        (b.incident(), PoliceIncident),
        (b.dash(14), DashRiskAssessment),
        (b.referral("marac"), ReferralMade),
    ],
    ids=["police.incident", "risk.dash", "referral.made"],
)
def test_valid_event_of_each_type_is_accepted_as_its_own_model(
    envelope: dict[str, Any], model: type
) -> None:
    event = ADAPTER.validate_python(envelope)
    assert isinstance(event, model)
    assert event.type == envelope["type"]
    assert event.time.utcoffset() is not None


def test_valid_incident_keeps_subjects_and_flags() -> None:
    envelope = with_data(b.incident(), weapon="firearm", children_present=True)
    event = ADAPTER.validate_python(envelope)
    assert [s.role.value for s in event.data.subjects] == ["victim", "perpetrator"]
    assert event.data.subjects[0].identifiers.nhs_number == "9990000001"
    assert event.data.weapon == "firearm" and event.data.children_present
    assert event.lawfulbasis is LawfulBasis.law_enforcement


def test_consent_basis_with_consentref_is_accepted() -> None:
    event = ADAPTER.validate_python(b.referral(lawfulbasis="ukgdpr-6-1-a", consentref="TEST-C-1"))
    assert event.lawfulbasis is LawfulBasis.consent
    assert event.consentref == "TEST-C-1"


def test_consentref_alone_is_a_recorded_basis() -> None:
    event = ADAPTER.validate_python(b.referral(lawfulbasis=None, consentref="TEST-C-2"))
    assert event.lawfulbasis is None
    assert event.consentref == "TEST-C-2"


@given(answers=st.lists(st.sampled_from(["yes", "no", "not_known"]), min_size=24, max_size=24))
def test_dash_score_equal_to_yes_count_or_left_out_is_accepted(answers: list[str]) -> None:
    envelope = b.dash(0)
    for score in (answers.count("yes"), None):
        data = {"answers": answers} | ({} if score is None else {"score": score})
        event = ADAPTER.validate_python(with_data(envelope, **data))
        assert event.data.score == score


@given(
    answers=st.lists(st.sampled_from(["yes", "no", "not_known"]), min_size=24, max_size=24),
    score=st.integers(0, 24),
)
def test_dash_score_other_than_yes_count_is_refused(answers: list[str], score: int) -> None:
    yes = answers.count("yes")
    if score == yes:
        score = (score + 1) % 25
    error = only_error(with_data(b.dash(0), answers=answers, score=score))
    assert error["loc"] == ("risk.dash", "data")
    assert f"score {score} does not match the {yes} 'yes' answers" in error["msg"]


def test_a_judgement_level_comes_with_the_judgement_flag() -> None:
    raised = ADAPTER.validate_python(
        with_data(b.dash(3), professional_judgement=True, judgement_raised_to="medium")
    )
    assert raised.data.judgement_raised_to == "medium"
    error = only_error(with_data(b.dash(3), judgement_raised_to="high"))
    assert "judgement_raised_to needs professional_judgement true" in error["msg"]
    wrong = only_error(with_data(b.dash(3), professional_judgement=True, judgement_raised_to="x"))
    assert wrong["loc"][-1] == "judgement_raised_to"


# --- refused events: each error points at the field to fix ------------------------------------


def _two_victims() -> dict[str, Any]:
    return b.incident(subjects=[b.victim("9990000001"), b.victim("9990000002", "Jo Sample")])


def _dash_23_answers() -> dict[str, Any]:
    return with_data(b.dash(10), answers=["no"] * 23)


def _dash_wrong_score() -> dict[str, Any]:
    return with_data(b.dash(10), score=11)


def _subject(identifiers: dict[str, Any]) -> dict[str, Any]:
    return b.referral() | {
        "data": {"subjects": [{"role": "victim", "identifiers": identifiers}], "to": "idva"}
    }


REFUSALS = {
    "missing victim": (
        lambda: b.incident(subjects=[b.perpetrator()]),
        ("police.incident", "data", "subjects"),
        "exactly one subject with role 'victim' (found 0)",
    ),
    "two victims": (
        _two_victims,
        ("police.incident", "data", "subjects"),
        "exactly one subject with role 'victim' (found 2)",
    ),
    "dash with 23 answers": (
        _dash_23_answers,
        ("risk.dash", "data", "answers"),
        "at least 24 items",
    ),
    "dash score not the yes count": (
        _dash_wrong_score,
        ("risk.dash", "data"),
        "score 11 does not match the 10 'yes' answers",
    ),
    "time without offset": (
        lambda: b.referral(time="2026-03-01T10:00:00"),
        ("referral.made", "time"),
        "UTC offset",
    ),
    "no lawfulbasis and no consentref": (
        lambda: b.referral(lawfulbasis=None),
        ("referral.made",),
        "give a lawfulbasis or a consentref",
    ),
    "consent basis without consentref": (
        lambda: b.referral(lawfulbasis="ukgdpr-6-1-a"),
        ("referral.made",),
        "needs a consentref",
    ),
    "extra unknown field": (
        lambda: b.referral(colour="red"),
        ("referral.made", "colour"),
        "Extra inputs are not permitted",
    ),
    "extra unknown field in a subject": (
        lambda: _subject({"nhs_number": "9990000001", "passport": "TEST123"}),
        ("referral.made", "data", "subjects", 0, "identifiers", "passport"),
        "Extra inputs are not permitted",
    ),
    "nhs_number of 9 digits": (
        lambda: _subject({"nhs_number": "999000001"}),
        ("referral.made", "data", "subjects", 0, "identifiers", "nhs_number"),
        "String should match pattern",
    ),
    "nhs_number with letters": (
        lambda: _subject({"nhs_number": "999000000X"}),
        ("referral.made", "data", "subjects", 0, "identifiers", "nhs_number"),
        "String should match pattern",
    ),
    "subject with no identifiers": (
        lambda: _subject({}),
        ("referral.made", "data", "subjects", 0, "identifiers"),
        "give at least one identifier",
    ),
}


@pytest.mark.parametrize(("make", "loc", "says"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refused_event_names_the_field_to_fix(make: Any, loc: tuple[Any, ...], says: str) -> None:
    error = only_error(make())
    assert error["loc"] == loc
    assert says in error["msg"]


def test_unknown_type_is_refused_naming_the_known_types() -> None:
    error = only_error(b.referral(type="police.unknown"))
    assert error["type"] == "union_tag_invalid"
    assert error["loc"] == ()
    for known in ("police.incident", "risk.dash", "referral.made"):
        assert known in error["msg"]


def test_missing_type_is_refused() -> None:
    envelope = b.referral()
    del envelope["type"]
    error = only_error(envelope)
    assert error["type"] == "union_tag_not_found"


@pytest.mark.parametrize("nhs", ["99900000011", "", "999 000 0001"])
def test_nhs_number_must_be_exactly_ten_digits(nhs: str) -> None:
    error = only_error(_subject({"nhs_number": nhs}))
    assert error["loc"][-1] == "nhs_number"


def test_subject_identified_only_by_agency_ref_is_accepted() -> None:
    event = ADAPTER.validate_python(_subject({"agency_ref": "TEST-CASE-42"}))
    assert event.data.subjects[0].identifiers.agency_ref == "TEST-CASE-42"


def test_several_problems_are_all_reported() -> None:
    envelope = b.incident(subjects=[b.perpetrator()], time="2026-03-01T10:00:00")
    locs = {e["loc"] for e in errors_of(envelope)}
    assert ("police.incident", "time") in locs
    assert ("police.incident", "data", "subjects") in locs


# --- poison inputs: refused at the door, naming the field ---------------------------------------


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z"])
def test_event_times_before_1900_are_refused(when: str) -> None:
    error = only_error(b.referral(time=when))
    assert error["loc"] == ("referral.made", "time")
    assert "from 1900-01-01 on" in error["msg"]


def test_the_first_moment_of_1900_is_accepted() -> None:
    event = ADAPTER.validate_python(b.referral(time="1900-01-01T00:00:00Z"))
    assert event.time.year == 1900


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_dates_in_payloads_outside_the_range_are_refused(day: str) -> None:
    error = only_error(with_data(copy.deepcopy(EXAMPLES["marac.case_heard"]), meeting_date=day))
    assert error["loc"][-1] == "meeting_date"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: b.referral(subject="TEST\x00CASE"), ("referral.made", "subject")),
        (
            lambda: _subject({"agency_ref": "TEST\x00REF"}),
            ("referral.made", "data", "subjects", 0, "identifiers", "agency_ref"),
        ),
    ],
    ids=["envelope text", "identifier"],
)
def test_nul_characters_in_text_are_refused(make: Any, field: tuple[Any, ...]) -> None:
    error = only_error(make())
    assert error["loc"] == field
    assert "NUL" in error["msg"]


def test_a_victim_who_is_their_own_perpetrator_is_refused() -> None:
    same = "9990000001"
    himself = {"role": "perpetrator", "identifiers": {"nhs_number": same}}
    error = only_error(b.incident(subjects=[b.victim(same), himself]))
    assert error["loc"] == ("police.incident", "data", "subjects")
    assert "0 (victim) and 1 (perpetrator) have the same nhs_number" in error["msg"]


def test_the_schema_says_a_subject_needs_an_identifier() -> None:
    schema = Identifiers.model_json_schema()
    assert {tuple(alt["required"]) for alt in schema["anyOf"]} == {
        ("nhs_number",),
        ("pnc_id",),
        ("local_authority_id",),
        ("agency_ref",),
    }


@pytest.mark.parametrize("dataschema", [{}, [], 0, True])
def test_a_dataschema_that_is_not_text_is_named_not_a_crash(dataschema) -> None:
    from hub.contract.parse import InvalidEvent, parse_event

    event = {**EXAMPLES["police.incident"], "dataschema": dataschema}
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event, 64 * 1024)
    assert any(e["path"] == "dataschema" for e in caught.value.errors), caught.value.errors
