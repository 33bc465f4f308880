"""A&E attendance export (one row per attendance, ECDS-style columns) → health.attendance,
and referral.made when the row records a safeguarding referral.

Columns (docs/adapters.md has the full mapping): Attendance ID, Arrival Date, Arrival Time,
NHS Number, Local Patient ID, Forename, Surname, Date of Birth, Arrival Mode, Injury Intent,
DA Question Asked, DA Disclosed, Pregnancy Status, Alcohol or Drugs Involved, Referral Made To,
Referral Consent, Clinical Notes.
"""

from __future__ import annotations

from typing import Any

from producers.adapters.base import CellError, Context, Row, envelope, event_id, person

PATIENT = ("Forename", "Surname", "Date of Birth")
# ECDS injury intent descriptions, shortened as exports show them
INTENTS = {
    "accidental": "accidental",
    "assault": "assault",
    "self-inflicted": "self_harm",
    "deliberate self-harm": "self_harm",
    "not applicable": "none",
    "unknown": "unknown",
}
PREGNANCY = {"pregnant": True, "not pregnant": False, "unknown": None, "not applicable": False}
REFERRALS = {
    "idva": "idva",
    "marac": "marac",
    "community idva": "community_idva",
    "children's services": "childrens_services",
    "childrens services": "childrens_services",
    "adult safeguarding": "adult_safeguarding",
    "mental health": "mental_health",
    "substance misuse": "substance_misuse",
    "housing": "housing",
}
CONSENT = {"given": "given", "refused": "refused", "not sought": "not_sought", "": "not_known"}


def _one_of(row: Row, column: str, mapping: dict[str, Any]) -> Any:
    value = (row.text(column) or "").lower()
    if value not in mapping:
        known = ", ".join(sorted(k.title() for k in mapping if k))
        raise CellError(column, f"{row.text(column)!r} is not known; use: {known}")
    return mapping[value]


def attendance_events(row: Row, ctx: Context) -> list[dict[str, Any]]:
    ref = row.required("Attendance ID")
    when = row.instant("Arrival Date", "Arrival Time")
    patient = person(
        "victim", row, PATIENT, {"nhs_number": "NHS Number", "agency_ref": "Local Patient ID"}
    )
    if patient is None:
        raise CellError("NHS Number", "give the NHS Number or the Local Patient ID")
    intent = _one_of(row, "Injury Intent", INTENTS | {"": "none"})
    asked = row.flag("DA Question Asked")
    disclosed = row.yes_no("DA Disclosed")
    if asked and disclosed is None:
        raise CellError("DA Disclosed", "the question was asked: write Y or N")
    # the patient is named as a victim only when she disclosed domestic abuse
    patient["role"] = "victim" if asked and disclosed else "other"
    data: dict[str, Any] = {
        "subjects": [patient],
        "setting": "ae",
        "injury": intent not in ("none", "unknown"),
        "da_question_asked": asked,
        "da_disclosed": "not_asked" if not asked else ("yes" if disclosed else "no"),
        "pregnant": _one_of(row, "Pregnancy Status", PREGNANCY | {"": None}),
        "substance_use": row.yes_no("Alcohol or Drugs Involved"),
        "self_harm": intent == "self_harm",
    }
    if notes := row.text("Clinical Notes"):
        data["clinical_notes"] = notes
    basis = "ukgdpr-6-1-e"
    events = [envelope("health.attendance", event_id("AE", ref), when, data, ctx, basis, ref)]
    if row.text("Referral Made To"):
        referral = {
            "subjects": [patient],
            "to": _one_of(row, "Referral Made To", REFERRALS),
            "consent_status": _one_of(row, "Referral Consent", CONSENT),
        }
        events.append(
            envelope("referral.made", event_id("AE", ref, "-REF"), when, referral, ctx, basis, ref)
        )
    return events
