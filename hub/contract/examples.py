"""One example of each event type, about obviously fake people: the documentation shows them
and the tests send them, so every example is known to be accepted."""

from __future__ import annotations

from typing import Any

VICTIM = {
    "role": "victim",
    "name": "Alex Example",
    "date_of_birth": "1990-01-01",
    "identifiers": {"nhs_number": "9990000001"},
}
PERPETRATOR = {
    "role": "perpetrator",
    "name": "Sam Sample",
    "identifiers": {"pnc_id": "TEST0000002"},
}
CHILD = {"role": "child", "name": "Kit Example", "identifiers": {"nhs_number": "9990000003"}}


def _event(event_type: str, n: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"TEST-{event_type.upper().replace('.', '-')}-{n:04d}",
        "source": "urn:hub:agency:TEST-AGENCY-A/case-system",
        "type": event_type,
        "time": "2026-03-01T22:15:00Z",
        "senttime": "2026-03-02T08:00:00Z",
        "lawfulbasis": "ukgdpr-6-1-e",
        "data": data,
        **extra,
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "police.incident": _event(
        "police.incident",
        1,
        {
            "subjects": [VICTIM, PERPETRATOR, CHILD],
            "abuse_types": ["physical", "coercive_control"],
            "injuries": True,
            "children_present": True,
            "children_ages": [6],
            "weapon": "none",
            "arrest": True,
            "orders": ["bail_conditions"],
            "breach_of_order": False,
            "circumstances": "Neighbour called 999 after hearing shouting (fictional example).",
        },
        lawfulbasis="dpa2018-part3",
        subject="TEST-CAD-0001",
    ),
    "health.attendance": _event(
        "health.attendance",
        1,
        {
            "subjects": [VICTIM],
            "setting": "ae",
            "injury": True,
            "da_question_asked": True,
            "da_disclosed": "yes",
            "pregnant": False,
            "substance_use": False,
            "self_harm": False,
            "clinical_notes": "Bruising to forearm (fictional example).",
        },
    ),
    "marker.added": _event(
        "marker.added", 1, {"subjects": [VICTIM], "marker": "da_victim", "since": "2026-02-01"}
    ),
    "marker.removed": _event(
        "marker.removed",
        1,
        {"subjects": [VICTIM], "marker": "da_victim", "reason": "entered_in_error"},
    ),
    "referral.made": _event(
        "referral.made",
        1,
        {
            "subjects": [VICTIM],
            "to": "marac",
            "professional_judgement": True,
            "concern": "Escalating threats after separation (fictional example).",
            "consent_status": "given",
        },
    ),
    "risk.dash": _event(
        "risk.dash",
        1,
        {
            "subjects": [VICTIM, PERPETRATOR],
            "answers": ["yes"] * 14 + ["no"] * 8 + ["not_known"] * 2,
            "score": 14,
            "assessor_role": "idva",
            "professional_judgement": False,
            "victim_view": "high",
            "victim_age": 34,
        },
    ),
    "contact.attempted": _event(
        "contact.attempted",
        1,
        {"subjects": [VICTIM], "method": "phone", "outcome": "no_answer", "safe_to_contact": True},
    ),
    "needs.identified": _event(
        "needs.identified",
        1,
        {"subjects": [VICTIM], "needs": ["mental_health", "housing"]},
    ),
    "marac.case_heard": _event(
        "marac.case_heard",
        1,
        {
            "subjects": [VICTIM, PERPETRATOR],
            "meeting_date": "2026-03-10",
            "area": "TEST-AREA-NORTH",
            "repeat": False,
            "agencies_present": ["TEST-POLICE-A", "TEST-IDVA-A", "TEST-HOUSING-A"],
            "risk_discussed": "high",
            "actions": [
                {"action": "spoc", "owner_agency": "TEST-IDVA-A", "due_date": "2026-03-17"},
                {
                    "action": "flag_files",
                    "owner_agency": "TEST-POLICE-A",
                    "text": "Flag the address for a priority response",
                    "due_date": "2026-03-12",
                },
            ],
        },
    ),
    "marac.action.updated": _event(
        "marac.action.updated",
        1,
        {
            "subjects": [VICTIM],
            "action_id": "6b1f3e0a-5c2d-4e8f-9a01-23456789abcd.2",
            "state": "done",
        },
    ),
    "consent.recorded": _event(
        "consent.recorded",
        1,
        {
            "subjects": [VICTIM],
            "decision": "given",
            "scope": {"purposes": ["marac_case_preparation"], "recipients": ["marac"]},
            "method": "verbal",
            "recorded_by_role": "idva",
            "valid_until": "2027-03-01",
        },
        lawfulbasis="ukgdpr-6-1-a",
        consentref="TEST-CONSENT-0001",
    ),
    "consent.withdrawn": _event(
        "consent.withdrawn",
        1,
        {"subjects": [VICTIM], "consent_ref": "TEST-CONSENT-0001", "method": "written"},
    ),
    "relationship.declared": _event(
        "relationship.declared",
        1,
        {"subjects": [VICTIM, CHILD], "relation": "parent_child"},
    ),
    "case.closed": _event(
        "case.closed",
        1,
        {
            "subjects": [VICTIM],
            "outcome": "exit",
            "reason": "support_completed",
            "exit": {
                "abuse": {"physical": "stopped", "coercive_control": "reduced"},
                "feels_safer": "yes",
                "wellbeing": "improved",
                "children_exposure": "stopped",
                "childrens_social_care": "early_help",
                "engagement": "throughout",
            },
        },
    ),
}
