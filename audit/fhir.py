"""Audit records as FHIR R4 AuditEvent resources, shaped per IHE Basic Audit Log Patterns
(BALP): pure mapping, no storage.

Each record becomes one AuditEvent: type "rest" with the RESTful interaction as subtype (a
read of one subject's events is a BALP PatientRead, a listing or an IG query a
PatientQuery/Query, an access request a create or update); the principal as the requesting
agent (with their role, agency and the lawful bases as the agent's policy); the hub as the
server agent on the network and as the source (observer); each subject, by token only, as a
Patient entity with the fields and items shown; and the purpose as purposeOfEvent. Override
justifications stay in the hub (free text may name people); the reason code travels.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from audit.ig import DISCLOSED, AuditEntry

AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/"
# The hub's own code systems and identifiers: URNs, not web addresses nobody serves.
SUBJECT_TOKEN = "urn:hub:subject-token"
PRINCIPAL = "urn:hub:principal"
AGENCY = "urn:hub:agency"
ROLE = "urn:hub:role"
PURPOSE = "urn:hub:purpose-of-use"
LAWFUL_BASIS = "urn:hub:lawful-basis:"
OVERRIDE = "urn:hub:override-reason"

# (subtype code, AuditEvent.action, BALP profile) by kind of record
_READ = ("read", "R", "IHE.BasicAudit.PatientRead")
_SEARCH = ("search", "E", "IHE.BasicAudit.PatientQuery")
_QUERY = ("search", "E", "IHE.BasicAudit.Query")
_CREATE = ("create", "C", "IHE.BasicAudit.PatientCreate")
_UPDATE = ("update", "U", "IHE.BasicAudit.PatientUpdate")


def interaction_of(action: str, outcome: str) -> tuple[str, str, str]:
    """The RESTful interaction a record stands for, from its action and outcome."""
    if outcome == "access requested":
        return _CREATE
    if outcome.startswith("access ") and not action.endswith("listed"):
        return _UPDATE
    if action.startswith("GET /v1/subjects/"):
        return _READ
    if action.startswith(("IG ", "hub ig", "GET /v1/ig")):
        return _QUERY
    return _SEARCH  # alert lists, request lists: several subjects at once


def _outcome_code(outcome: str) -> str:
    # 0 success; 4 minor failure: the policy refused (access denied, nothing shown)
    return "4" if outcome == "refused" else "0"


def to_audit_event(entry: AuditEntry, hub_id: str = "hub") -> dict[str, Any]:
    """The record as an R4 AuditEvent (a JSON-ready dict). hub_id names this hub."""
    body = entry.body
    action, outcome = str(body.get("action", "")), str(body.get("outcome", ""))
    subtype, verb, profile = interaction_of(action, outcome)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": entry.record_id,
        "meta": {"profile": [BALP + profile]},
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": RESTFUL_INTERACTION, "code": subtype}],
        "action": verb,
        "recorded": str(body["time"]),
        "outcome": _outcome_code(outcome),
        "agent": [_requestor(body), _server(hub_id)],
        "source": {
            "site": hub_id,
            "observer": {"identifier": {"system": "urn:hub", "value": hub_id}, "display": hub_id},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": [*(_patient(token, body) for token in entry.subjects), _request(entry, subtype)],
    }
    if outcome.strip():
        event["outcomeDesc"] = outcome
    if body.get("purpose"):
        event["purposeOfEvent"] = [{"coding": [{"system": PURPOSE, "code": str(body["purpose"])}]}]
    return event


def _requestor(body: Any) -> dict[str, Any]:
    who: dict[str, Any] = {"identifier": {"system": PRINCIPAL, "value": body["principal_id"]}}
    if body.get("agency_id"):
        who["identifier"]["assigner"] = {
            "identifier": {"system": AGENCY, "value": body["agency_id"]}
        }
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP",
                             "display": "information recipient"}]},
        "who": who,
        "requestor": True,
    }  # fmt: skip
    if body.get("role"):
        agent["role"] = [{"coding": [{"system": ROLE, "code": str(body["role"])}]}]
    bases = [LAWFUL_BASIS + b for b in body.get("lawful_bases") or []]
    if bases:
        agent["policy"] = bases
    return agent


def _server(hub_id: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
        "who": {"identifier": {"system": "urn:hub", "value": hub_id}, "display": hub_id},
        "requestor": False,
        "network": {"address": hub_id, "type": "1"},  # 1: machine name
    }


def _details(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """entity.detail entries, leaving out empty values: a FHIR string may not be empty."""
    return [{"type": kind, "valueString": value} for kind, value in pairs if value.strip()]


def _with_detail(entity: dict[str, Any], detail: list[dict[str, str]]) -> dict[str, Any]:
    if detail:  # nor may a FHIR array: no details, no element
        entity["detail"] = detail
    return entity


def _patient(token: str, body: Any) -> dict[str, Any]:
    statuses = sorted(
        {str(d["consent_status"]) for d in body.get("decisions") or [] if d.get("consent_status")}
    )
    detail = _details(
        ("fields", ",".join(body.get("fields") or [])),
        ("consent_status", ",".join(statuses)),
        *((OVERRIDE, str(o["reason"])) for o in body.get("overrides") or []),
    )
    patient = {
        "what": {"identifier": {"system": SUBJECT_TOKEN, "value": token}},
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
    }
    return _with_detail(patient, detail)


def _request(entry: AuditEntry, subtype: str) -> dict[str, Any]:
    """What was asked: the query (base64, as R4 wants it) or the items read."""
    body = entry.body
    action = str(body.get("action", ""))
    request: dict[str, Any] = {
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
    }
    if action.strip():
        request["description"] = action
    if subtype == "search":
        request["role"] = {"system": OBJECT_ROLE, "code": "24", "display": "Query"}
        if action:
            request["query"] = base64.b64encode(action.encode()).decode()
    else:
        request["role"] = {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}
    outcome = body.get("outcome")
    return _with_detail(
        request,
        _details(
            ("items", ",".join(body.get("items") or [])),
            ("outcome", str(outcome) if outcome not in (DISCLOSED, None) else ""),
        ),
    )


def to_bundle(
    entries: Iterable[AuditEntry], hub_id: str, generated_at: str, bundle_id: str
) -> dict[str, Any]:
    """The records as one R4 Bundle of type collection, for a download (e.g. one period)."""
    resources = [to_audit_event(e, hub_id) for e in entries]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": generated_at,
    }  # no "total": R4 allows it on search and history bundles only (bdl-1)
    if resources:  # an empty FHIR array is invalid: an empty export has no entry element
        bundle["entry"] = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return bundle
