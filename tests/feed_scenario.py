"""One family for the agencies' feed tests: an incident with a child (who names a school), a
referral to the community Idva and one to Marac, and a hearing with three actions owned by
three agencies (two past their due dates). Obviously fake people and agencies."""

from __future__ import annotations

from typing import Any

from tests import builders as b

AREA = "TEST-AREA"  # its agencies (hub/data/areas.toml) include TEST-CSC-A and TEST-IDVA-A
AGENCIES = {
    "TEST-POLICE-A": "police",
    "TEST-HOUSING-A": "housing",
    "TEST-PROBATION-A": "probation",
    "TEST-CSC-A": "childrens_social_care",
    "TEST-SCHOOL-A": "education",
    "TEST-IDVA-A": "idva",
    "TEST-MARAC-A": "marac",
}
VICTIM = b.victim("9990000701", "Alex Example")
PERPETRATOR = b.perpetrator("TEST-PNC-701", "Sam Sample")
CHILD = {
    "role": "child",
    "identifiers": {"local_authority_id": "TEST-CHILD-701"},
    "school": "TEST-SCHOOL-A",
}
# (owner, type, due date): the police's and probation's are past due, housing's is not
ACTIONS = [
    ("TEST-POLICE-A", "flag_files", "2026-03-12"),
    ("TEST-HOUSING-A", "housing_victim", "2030-01-31"),
    ("TEST-PROBATION-A", "pre_sentence_report", "2026-03-20"),
]


def events() -> list[tuple[str, dict[str, Any]]]:
    """(sending agency, event) in the order they are sent."""
    incident = b.incident(
        [VICTIM, PERPETRATOR, CHILD], time="2026-03-02T21:00:00Z", id="TEST-INC-701"
    )
    incident["data"] |= {"children_present": True, "children_ages": [7]}
    to_idva = b._envelope(
        "referral.made", {"subjects": [VICTIM], "to": "community_idva"},
        time="2026-03-03T10:00:00Z", id="TEST-REF-701",
    )  # fmt: skip
    to_marac = b._envelope(
        "referral.made", {"subjects": [VICTIM, PERPETRATOR], "to": "marac"},
        time="2026-03-03T11:00:00Z", id="TEST-REF-702",
    )  # fmt: skip
    hearing = b._envelope(
        "marac.case_heard",
        {
            "subjects": [VICTIM, PERPETRATOR], "meeting_date": "2026-03-10", "area": AREA,
            "agencies_present": ["TEST-POLICE-A", "TEST-HOUSING-A"],
            "risk_discussed": "high",
            "actions": [
                {"action": kind, "owner_agency": owner, "due_date": due,
                 "text": f"TEST action for {owner}"}
                for owner, kind, due in ACTIONS
            ],
        },
        time="2026-03-10T12:00:00Z", id="TEST-HEARING-701",
    )  # fmt: skip
    return [
        ("TEST-POLICE-A", incident),
        ("TEST-POLICE-A", to_idva),
        ("TEST-POLICE-A", to_marac),
        ("TEST-MARAC-A", hearing),
    ]


def action_done(action_id: str) -> dict[str, Any]:
    return b._envelope(
        "marac.action.updated",
        {"subjects": [VICTIM], "action_id": action_id, "state": "done"},
        time="2026-03-15T09:00:00Z", id=f"TEST-DONE-{action_id}",
    )  # fmt: skip
