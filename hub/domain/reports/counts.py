"""The counts the rules use, for the family view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.areas import AreaSettings
from hub.domain.family import Entry, FamilyProjection, victims
from hub.domain.reports.common import agency_entries
from hub.domain.rules.base import is_da

NOT_REACHED = ("no_answer", "not_able_to_engage")


def window_counts(p: FamilyProjection, area: AreaSettings, as_of: datetime) -> dict[str, Any]:
    """The counts the rules use, in the area's window ending at as_of (local calendar days,
    both ends inclusive): per victim and per perpetrator."""
    cal = area.calendar
    last = cal.local_date(as_of)
    entries = [
        e
        for e in agency_entries(p)
        if e.time <= as_of and area.in_window(cal.local_date(e.time), last)
    ]

    def of(person: str, kind: str) -> list[Entry]:
        return [e for e in entries if e.is_about(person) and e.type == kind]

    out_v = {}
    for v in victims(p):
        contacts = of(v, EventType.CONTACT_ATTEMPTED)
        referrals = of(v, EventType.REFERRAL_MADE)
        out_v[v] = {
            "abuse_events": sum(1 for e in entries if e.is_about(v) and is_da(e)),
            "police_incidents": len(of(v, EventType.POLICE_INCIDENT)),
            "referrals": len(referrals),
            "marac_referrals": sum(1 for e in referrals if e.facts.get("to") == "marac"),
            "dash_assessments": len(of(v, EventType.RISK_DASH)),
            "contact_attempts": len(contacts),
            "contacts_not_reached": sum(
                1 for e in contacts if e.facts.get("outcome") in NOT_REACHED
            ),
        }
    out_p = {}
    for q in sorted({q for e in agency_entries(p) for q in e.persons("perpetrator")}):
        named = [e for e in agency_entries(p) if e.names(q, "perpetrator")]
        out_p[q] = {
            "linked_victims": len({v for e in named for v in e.persons("victim")} - {q}),
            "incidents": sum(1 for e in entries if e.names(q, "perpetrator") and is_da(e)),
            "breaches_of_order": sum(
                1 for e in entries if e.names(q, "perpetrator") and e.facts.get("breach_of_order")
            ),
        }
    return {
        "as_of": as_of.isoformat(),
        "area": area.name,
        "window": area.window_words,
        "victims": out_v,
        "perpetrators": out_p,
    }
