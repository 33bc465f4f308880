"""Police incident export (one row per domestic-abuse occurrence) → police.incident, and
relationship.declared when the row says how victim and suspect are related.

Columns (docs/adapters.md has the full mapping): Occurrence Ref, Occurrence Date, Occurrence
Time, Victim Forename, Victim Surname, Victim DOB, Victim PNC ID, Victim NHS No, Victim Nominal
Ref, Suspect Forename, Suspect Surname, Suspect DOB, Suspect PNC ID, Suspect Nominal Ref,
Relationship, DA Abuse Types, Injuries, Children Present, Child Ages, Weapon Used, Firearm
Involved, Arrest Made, Orders In Place, Breach Of Order, MO Summary.
"""

from __future__ import annotations

from typing import Any

from producers.adapters.base import CellError, Context, Row, envelope, event_id, person

ABUSE_TYPES = {
    "physical": "physical",
    "sexual": "sexual",
    "coercive control": "coercive_control",
    "controlling or coercive behaviour": "coercive_control",
    "stalking": "harassment_stalking",
    "harassment": "harassment_stalking",
    "stalking/harassment": "harassment_stalking",
    "honour based": "honour_based",
    "honour-based": "honour_based",
    "economic": "economic",
}
ORDERS = {
    "non-molestation order": "non_molestation",
    "occupation order": "occupation",
    "dvpn": "dvpn_dvpo",
    "dvpo": "dvpn_dvpo",
    "restraining order": "restraining",
    "bail conditions": "bail_conditions",
}
RELATIONSHIPS = {
    "partner": "partner",
    "spouse": "partner",
    "boyfriend": "partner",
    "girlfriend": "partner",
    "ex-partner": "ex_partner",
    "ex-spouse": "ex_partner",
    "sibling": "sibling",
}
VICTIM = ("Victim Forename", "Victim Surname", "Victim DOB")
SUSPECT = ("Suspect Forename", "Suspect Surname", "Suspect DOB")


def _ages(row: Row) -> list[int]:
    try:
        ages = [int(a) for a in row.items("Child Ages")]
    except ValueError:
        raise CellError("Child Ages", "write whole years separated by ';', e.g. 4;9") from None
    if any(not 0 <= a <= 17 for a in ages):
        raise CellError("Child Ages", "a child's age is 0 to 17")
    return ages


def incident_events(row: Row, ctx: Context) -> list[dict[str, Any]]:
    ref = row.required("Occurrence Ref")
    when = row.instant("Occurrence Date", "Occurrence Time")
    victim = person(
        "victim",
        row,
        VICTIM,
        {
            "pnc_id": "Victim PNC ID",
            "nhs_number": "Victim NHS No",
            "agency_ref": "Victim Nominal Ref",
        },
    )
    if victim is None:
        raise CellError("Victim Nominal Ref", "name the victim by at least one identifier")
    suspect = person(
        "perpetrator",
        row,
        SUSPECT,
        {"pnc_id": "Suspect PNC ID", "agency_ref": "Suspect Nominal Ref"},
    )
    abuse_types = row.choices("DA Abuse Types", ABUSE_TYPES)
    if not abuse_types:
        raise CellError("DA Abuse Types", "name at least one, e.g. Physical;Coercive Control")
    ages = _ages(row)
    weapon = (
        "firearm"
        if row.flag("Firearm Involved")
        else "weapon"
        if row.flag("Weapon Used")
        else "none"
    )
    data: dict[str, Any] = {
        "subjects": [victim, *([suspect] if suspect else [])],
        "abuse_types": sorted(set(abuse_types)),
        "injuries": row.flag("Injuries"),
        "children_present": row.flag("Children Present") or bool(ages),
        "children_ages": ages,
        "weapon": weapon,
        "arrest": row.flag("Arrest Made"),
        "orders": sorted(set(row.choices("Orders In Place", ORDERS))),
        "breach_of_order": row.flag("Breach Of Order"),
    }
    if summary := row.text("MO Summary"):
        data["circumstances"] = summary
    events = [
        envelope("police.incident", event_id("POL", ref), when, data, ctx, "dpa2018-part3", ref)
    ]
    relation = (row.text("Relationship") or "").lower()
    if suspect and relation in RELATIONSHIPS:
        events.append(
            envelope(
                "relationship.declared",
                event_id("POL", ref, "-REL"),
                when,
                {"subjects": [victim, suspect], "relation": RELATIONSHIPS[relation]},
                ctx,
                "dpa2018-part3",
                ref,
            )
        )
    return events
