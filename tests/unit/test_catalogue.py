"""The published contract: every type, its schema files, its page, its versions."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from hub.contract import CURRENT_VERSION, EVENT_TYPES, CaseClosed, PoliceIncident, schema_urn
from hub.contract.examples import EXAMPLES
from hub.contract.parse import InvalidEvent, parse_event
from hub.domain.events import CanonicalEvent, SubjectRef
from hub.entrypoints.contract_docs import EVENTS_DOC, SCHEMA_DIR, events_markdown, json_schemas

DOMAIN_CATALOGUE = {
    "police.incident", "health.attendance", "marker.added", "marker.removed", "referral.made",
    "risk.dash", "contact.attempted", "needs.identified", "marac.case_heard",
    "consent.recorded", "consent.withdrawn", "relationship.declared", "case.closed",
    "marac.action.updated",  # issue 15: owning agencies update their Marac actions
}  # fmt: skip


def test_every_event_in_the_domain_catalogue_has_a_type() -> None:
    assert set(EVENT_TYPES) == DOMAIN_CATALOGUE


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_documented_example_is_accepted(event_type: str) -> None:
    event = parse_event(json.dumps(EXAMPLES[event_type]), 64 * 1024)
    assert event.type == event_type


def test_schema_files_match_the_code() -> None:
    on_disk = {p.name: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == json_schemas(), (
        "run `python -m hub.entrypoints.contract_docs` and commit the result"
    )


def test_events_page_matches_the_code() -> None:
    assert EVENTS_DOC.read_text() == events_markdown(), (
        "run `python -m hub.entrypoints.contract_docs`"
    )


def test_schema_files_name_their_version_and_mark_sealed_fields() -> None:
    schema = json_schemas()[f"police.incident.v{CURRENT_VERSION['police.incident']}.json"]
    assert schema["$id"] == schema_urn("police.incident")
    data = schema["$defs"]["PoliceIncidentData"]["properties"]
    assert data["circumstances"]["x-hub-sensitive"] is True
    assert "x-hub-sensitive" not in data["injuries"]


def v1_incident(weapon: bool) -> dict:
    event = copy.deepcopy(EXAMPLES["police.incident"])
    event["dataschema"] = "urn:hub:schema:police.incident:v1"
    del event["data"]["children_ages"]
    event["data"]["weapon"] = weapon
    return event


@pytest.mark.parametrize(("v1", "v2"), [(True, "weapon"), (False, "none")])
def test_a_v1_police_incident_is_still_accepted_and_read_as_v2(v1: bool, v2: str) -> None:
    event = parse_event(json.dumps(v1_incident(v1)), 64 * 1024)
    assert isinstance(event, PoliceIncident)
    assert event.data.weapon == v2
    assert event.data.children_ages == []


def test_a_v1_answer_in_v2_shape_is_refused_naming_the_field() -> None:
    event = copy.deepcopy(EXAMPLES["police.incident"])
    event["data"]["weapon"] = True  # v1 shape, current version claimed
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(event), 64 * 1024)
    assert [e["path"] for e in caught.value.errors] == ["data.weapon"]


def test_an_unknown_schema_version_is_refused() -> None:
    event = copy.deepcopy(EXAMPLES["police.incident"])
    event["dataschema"] = "urn:hub:schema:police.incident:v9"
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(event), 64 * 1024)
    assert "police.incident:v1" in str(caught.value)  # says which versions exist


def stored_v1(event_type: str, agency: tuple[str, str], data: dict) -> CanonicalEvent:
    """An event as the store held it when its type was at version 1."""
    return CanonicalEvent(
        hub_id="00000000-0000-5000-8000-000000000001",
        source_id="TEST-1",
        agency_id=agency[0],
        agency_type=agency[1],
        type=event_type,
        time=datetime(2024, 5, 1, 12, tzinfo=UTC),
        recorded_at=datetime(2024, 5, 1, 13, tzinfo=UTC),
        lawful_basis="dpa2018-part3",
        consent_ref=None,
        subjects=(SubjectRef("st_testvictim", "victim"),),
        data=data,
        schema_version=1,
    )


def test_a_stored_v1_event_is_read_back_at_the_current_version() -> None:
    data = {"abuse_types": ["physical"], "weapon": True, "children_present": False}
    stored = stored_v1("police.incident", ("TEST-POLICE-A", "police"), data)
    read = CanonicalEvent.from_json(stored.to_json())
    assert read.schema_version == CURRENT_VERSION["police.incident"]
    assert read.data["weapon"] == "weapon"
    assert read.data["children_ages"] == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * 70_000, "too_large"),
        (b'{"specversion": "1.0", ', "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"[" * 5000, "malformed_json"),
        (b"[1, 2]", "invalid"),
        (json.dumps({**EXAMPLES["risk.dash"], "type": "police.rumour"}).encode(), "unknown_type"),
        (json.dumps({**EXAMPLES["risk.dash"], "time": 17}).encode(), "invalid"),
    ],
)
def test_each_kind_of_bad_input_has_its_own_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw, 64 * 1024)
    assert caught.value.reason == reason
    assert caught.value.errors and all(e["msg"] for e in caught.value.errors)
    assert "Alex Example" not in json.dumps(caught.value.errors)  # values never echoed


def test_the_vocabulary_names_every_event_type_once() -> None:
    from hub.contract import EVENT_TYPES
    from hub.contract.vocabulary import EventType
    from hub.domain.internal import INTERNAL_TYPES, HubEventType

    assert sorted(EventType) == sorted(EVENT_TYPES)
    assert sorted(HubEventType) == sorted(INTERNAL_TYPES)
    assert not set(EventType) & set(HubEventType)


# --- case.closed v2: the reason and the outcomes at exit (issue 15, section 3) --------------


def v1_closure(dataschema: str | None) -> dict:
    event = copy.deepcopy(EXAMPLES["case.closed"])
    event["data"] = {
        "subjects": event["data"]["subjects"],
        "outcome": "onward_referral",
        "onward_to": "community_idva",
    }
    if dataschema is not None:
        event["dataschema"] = dataschema
    return event


@pytest.mark.parametrize("dataschema", ["urn:hub:schema:case.closed:v1", None])
def test_a_v1_case_closed_is_still_accepted_with_reason_and_exit_not_recorded(
    dataschema: str | None,
) -> None:
    event = parse_event(json.dumps(v1_closure(dataschema)), 64 * 1024)
    assert isinstance(event, CaseClosed)
    assert (event.data.outcome, event.data.onward_to) == ("onward_referral", "community_idva")
    assert event.data.reason is None and event.data.exit is None


def test_a_stored_v1_closure_is_read_back_at_v2_unchanged() -> None:
    stored = stored_v1("case.closed", ("TEST-IDVA-A", "idva"), {"outcome": "exit"})
    read = CanonicalEvent.from_json(stored.to_json())
    assert read.schema_version == CURRENT_VERSION["case.closed"] == 2
    assert read.data == {"outcome": "exit"}


def test_exit_outcomes_come_with_the_end_of_support_not_with_continue() -> None:
    event = copy.deepcopy(EXAMPLES["case.closed"])
    event["data"]["outcome"] = "continue"
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(event), 64 * 1024)
    assert "exit outcomes are measured when support ends" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("reason", "refused_to_engage", "data.reason"),  # blaming words are not in the contract
        ("exit", {"abuse": {"physical": "better"}}, "data.exit.abuse.physical"),
        ("exit", {"abuse": {"shouting": "stopped"}}, "data.exit.abuse.shouting.[key]"),
        ("exit", {"feels_safer": True}, "data.exit.feels_safer"),
    ],
)
def test_an_unknown_reason_or_exit_answer_is_refused_naming_the_field(
    field: str, value: object, path: str
) -> None:
    event = copy.deepcopy(EXAMPLES["case.closed"])
    event["data"][field] = value
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(event), 64 * 1024)
    assert [e["path"] for e in caught.value.errors] == [path]
