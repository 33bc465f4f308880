"""Audit records as FHIR R4 AuditEvents (IHE BALP shape): pure mapping, constructed records."""

from __future__ import annotations

import base64
import json
from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given
from hypothesis import strategies as st

from audit.fhir import (
    AUDIT_EVENT_TYPE,
    RESTFUL_INTERACTION,
    SUBJECT_TOKEN,
    to_audit_event,
    to_bundle,
)
from audit.ig import AuditEntry
from tests.unit.test_ig import ALEX, OVERRIDE, SAM, entry

# fhir.resources' R4B models: the versions of it that carry 4.0.1 models need pydantic 1.
# AuditEvent and Bundle did not change between R4 (4.0.1) and R4B (4.3.0), and the models
# check every primitive's regular expression (a FHIR string may not be empty), cardinality
# and the required elements, which is what the export must satisfy.


def check_r4_required(event: dict[str, Any]) -> None:
    """Valid for a real FHIR R4 validator, and the elements BALP adds."""
    AuditEvent.model_validate(event)  # raises pydantic.ValidationError naming each fault
    assert event["resourceType"] == "AuditEvent"
    assert event["type"]["system"] == AUDIT_EVENT_TYPE and event["type"]["code"] == "rest"
    assert event["recorded"].endswith("+00:00")
    assert event["agent"], "at least one agent"
    for agent in event["agent"]:
        assert isinstance(agent["requestor"], bool)
    assert [a["requestor"] for a in event["agent"]].count(True) == 1
    assert event["source"]["observer"]
    assert event["entity"]
    assert event["outcome"] in {"0", "4", "8", "12"}


def test_a_read_of_one_subject_is_a_balp_patient_read() -> None:
    event = to_audit_event(entry(1, agency="TEST-GP-A", consent_status="given"), "TEST-HUB")
    check_r4_required(event)
    assert event["id"] == "rec-1"
    assert event["subtype"] == [{"system": RESTFUL_INTERACTION, "code": "read"}]
    assert event["action"] == "R" and event["outcome"] == "0"
    assert event["meta"]["profile"][0].endswith("IHE.BasicAudit.PatientRead")
    requestor, server = event["agent"]
    assert requestor["who"]["identifier"]["value"] == "p-chair"
    assert requestor["who"]["identifier"]["assigner"]["identifier"]["value"] == "TEST-GP-A"
    assert requestor["policy"] == ["urn:hub:lawful-basis:ukgdpr-6-1-e"]
    assert server["network"]["address"] == "TEST-HUB" and not server["requestor"]
    assert event["source"]["observer"]["display"] == "TEST-HUB"
    patient, request = event["entity"]
    assert patient["what"]["identifier"] == {"system": SUBJECT_TOKEN, "value": ALEX}
    assert patient["role"]["code"] == "1"  # Patient
    assert {"type": "fields", "valueString": "marker,since"} in patient["detail"]
    assert {"type": "consent_status", "valueString": "given"} in patient["detail"]
    assert request["role"]["code"] == "4" and request["description"].startswith("GET /v1/")
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "marac_case_preparation"


def test_a_listing_is_a_query_with_its_request_in_base64() -> None:
    event = to_audit_event(entry(2, subjects=()))
    check_r4_required(event)
    assert event["subtype"][0]["code"] == "search" and event["action"] == "E"
    [query] = event["entity"]
    assert query["role"]["code"] == "24"
    assert base64.b64decode(query["query"]).decode() == "GET /v1/alerts"


def test_a_refusal_is_a_minor_failure_and_overrides_carry_their_reason_not_the_text() -> None:
    refused = to_audit_event(entry(3, outcome="refused"))
    assert refused["outcome"] == "4" and refused["outcomeDesc"] == "refused"
    shared = to_audit_event(entry(4, subjects=(ALEX, SAM), override=OVERRIDE))
    assert [e["what"]["identifier"]["value"] for e in shared["entity"][:2]] == [ALEX, SAM]
    assert {
        "type": "urn:hub:override-reason",
        "valueString": "consent_cannot_reasonably_be_obtained",
    } in shared["entity"][0]["detail"]
    assert OVERRIDE["justification"] not in json.dumps(shared)


@given(
    st.sampled_from(["disclosed", "refused", "access requested", "access granted", "ig query"]),
    st.lists(st.sampled_from([ALEX, SAM]), max_size=2, unique=True),
    st.sampled_from(["gp", "marac_chair", "ig_officer"]),
)
def test_every_record_maps_to_a_valid_event(outcome: str, subjects: list[str], role: str) -> None:
    event = to_audit_event(entry(5, outcome=outcome, subjects=tuple(subjects), role=role))
    check_r4_required(event)
    tokens = [e["what"]["identifier"]["value"] for e in event["entity"] if "what" in e]
    assert tokens == sorted(subjects)


def _bare(outcome: str, action: str, role: str = "ig_officer") -> AuditEntry:
    """A record with no items, fields, bases or decisions: IG queries, the export's own
    record, access requests, operator reports."""
    body = {
        "time": "2026-03-01T09:00:00+00:00", "action": action, "principal_id": "cli:test",
        "principal_kind": "operator", "role": role, "agency_id": None,
        "purpose": "information_governance", "subjects": [ALEX], "fields": [],
        "lawful_bases": [], "overrides": [], "decisions": [], "items": [], "outcome": outcome,
    }  # fmt: skip
    return AuditEntry(9, "0b7a1f9e-2f57-4f4e-8d0e-6a1c8f0f0b11", body)


def test_no_detail_is_an_empty_string_for_records_without_items_or_fields() -> None:
    for outcome, action in (
        ("ig query", "GET /v1/ig/disclosures"), ("ig query", "hub ig export-fhir"),
        ("access requested", "access requested"), ("operator report", "hub reports repeat"),
        ("refused", "GET /v1/families/f_x"),
    ):  # fmt: skip
        event = to_audit_event(_bare(outcome, action))
        check_r4_required(event)
        for entity in event["entity"]:
            assert all(d["valueString"].strip() for d in entity.get("detail", []))


def test_an_export_is_a_valid_r4_collection_bundle() -> None:
    records = [entry(1), entry(2, subjects=()), _bare("ig query", "GET /v1/ig/export")]
    bundle = to_bundle(records, "TEST-HUB", "2026-03-02T00:00:00+00:00", "export-1")
    Bundle.model_validate(bundle)
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["rec-1", "rec-2", records[2][1]]
    Bundle.model_validate(to_bundle([], "TEST-HUB", "2026-03-02T00:00:00+00:00", "empty"))
