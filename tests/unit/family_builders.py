"""Builders of canonical events about obviously fake families, for projection and rule tests.

Times are UTC; MONDAY is a Monday in March 2026 (before British Summer Time, so London time
equals UTC). Ids are derived from the event's content unless ``sid`` is given, so building
the same event twice gives the same event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id
from hub.domain.family import FamilyProjection, apply_events
from hub.domain.internal import internal_event

VICTIM = "st_testvictim_alex_example"
VICTIM_2 = "st_testvictim_jo_placeholder"
PERP = "st_testperp_sam_sample"
PERP_2 = "st_testperp_max_fakename"
CHILD = "st_testchild_kit_example"
EX = "st_testex_robin_demo"

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SEALED = {"$enc": "A256GCM", "kid": VICTIM, "iv": "TEST-IV", "ct": "TEST-CIPHERTEXT"}
POLICE = ("TEST-POLICE-A", "police")
AE = ("TEST-AE-A", "health_ae")
IDVA = ("TEST-IDVA-A", "idva")
GP = ("TEST-GP-A", "gp")
MARAC = ("TEST-MARAC-A", "marac")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def event(
    type: str,
    at: datetime,
    subjects: Iterable[tuple[str, str]],
    data: Mapping[str, Any] | None = None,
    *,
    agency: tuple[str, str] = POLICE,
    recorded: datetime | None = None,
    basis: str | None = "ukgdpr-6-1-e",
    sid: str | None = None,
) -> CanonicalEvent:
    subs = tuple(SubjectRef(token, role) for token, role in subjects)
    body = dict(data or {})
    if sid is None:
        content = json.dumps([type, at.isoformat(), list(subjects), body], sort_keys=True)
        sid = "TEST-" + hashlib.sha256(content.encode()).hexdigest()[:16]
    return CanonicalEvent(
        hub_id=hub_event_id(agency[0], sid),
        source_id=sid,
        agency_id=agency[0],
        agency_type=agency[1],
        type=type,
        time=at,
        recorded_at=recorded or at + timedelta(minutes=5),
        lawful_basis=basis,
        consent_ref=None,
        subjects=subs,
        data=body,
    )


def _people(
    victim: str, perps: Iterable[str], children: Iterable[str] = ()
) -> list[tuple[str, str]]:
    return [
        (victim, "victim"),
        *((p, "perpetrator") for p in perps),
        *((c, "child") for c in children),
    ]


def incident(
    at: datetime,
    victim: str = VICTIM,
    perps: Iterable[str] = (PERP,),
    children: Iterable[str] = (),
    **data: Any,
) -> CanonicalEvent:
    body = {"abuse_types": ["physical"], "circumstances": SEALED, **data}
    return event(
        "police.incident", at, _people(victim, perps, children), body, basis="dpa2018-part3"
    )


def attendance(at: datetime, victim: str = VICTIM, disclosed: str = "yes") -> CanonicalEvent:
    body = {"setting": "ae", "injury": True, "da_question_asked": True, "da_disclosed": disclosed}
    return event(
        "health.attendance", at, [(victim, "victim")], {**body, "clinical_notes": SEALED}, agency=AE
    )


def dash(
    score: int,
    at: datetime,
    victim: str = VICTIM,
    pj: bool = False,
    perps: Iterable[str] = (PERP,),
    raised_to: str | None = None,
) -> CanonicalEvent:
    answers = ["yes"] * score + ["no"] * (24 - score)
    body: dict[str, Any] = {
        "answers": answers,
        "score": score,
        "assessor_role": "idva",
        "professional_judgement": pj or raised_to is not None,
    }
    if raised_to is not None:
        body["judgement_raised_to"] = raised_to
    return event("risk.dash", at, _people(victim, perps), body, agency=IDVA)


def referral(
    at: datetime,
    to: str = "idva",
    victim: str = VICTIM,
    pj: bool = False,
    agency: tuple[str, str] = POLICE,
    recorded: datetime | None = None,
) -> CanonicalEvent:
    body: dict[str, Any] = {"to": to, "professional_judgement": pj, "consent_status": "given"}
    if pj:
        body["concern"] = SEALED
    return event("referral.made", at, [(victim, "victim")], body, agency=agency, recorded=recorded)


def contact(
    at: datetime,
    outcome: str = "contact_made",
    victim: str = VICTIM,
    recorded: datetime | None = None,
) -> CanonicalEvent:
    body = {"method": "phone", "outcome": outcome, "safe_to_contact": True}
    return event(
        "contact.attempted", at, [(victim, "victim")], body, agency=IDVA, recorded=recorded
    )


def needs(at: datetime, *found: str, person: str = VICTIM, role: str = "victim") -> CanonicalEvent:
    body = {"needs": list(found), "details": SEALED}
    return event("needs.identified", at, [(person, role)], body, agency=GP)


def hearing(
    at: datetime, victim: str = VICTIM, perps: Iterable[str] = (PERP,), area: str = "TEST-AREA",
    due: datetime | None = None,
) -> CanonicalEvent:  # fmt: skip
    """A hearing with two actions: the Idva's (SPOC, .1) and the police's (flag files, .2),
    both due on ``due``'s date when given."""
    when = {} if due is None else {"due_date": due.date().isoformat()}
    body = {
        "meeting_date": at.date().isoformat(),
        "area": area,
        "repeat": False,
        "actions": [
            {"action": "spoc", "owner_agency": IDVA[0], **when},
            {"action": "flag_files", "owner_agency": POLICE[0], **when},
        ],
    }
    return event("marac.case_heard", at, _people(victim, perps), body, agency=MARAC)


def action_update(
    at: datetime, action_id: str, state: str, victim: str = VICTIM,
    agency: tuple[str, str] = IDVA, reason: str | None = None,
) -> CanonicalEvent:  # fmt: skip
    """The owning agency (by default the Idva, owner of a hearing's first action) moves it on."""
    body = {"action_id": action_id, "state": state, **({"reason": reason} if reason else {})}
    return event("marac.action.updated", at, [(victim, "victim")], body, agency=agency)


def relation(at: datetime, a: str, b: str, kind: str) -> CanonicalEvent:
    return event("relationship.declared", at, [(a, "other"), (b, "other")], {"relation": kind})


def closed(
    at: datetime, victim: str = VICTIM, agency: tuple[str, str] = IDVA, outcome: str = "exit",
    **v2: Any,
) -> CanonicalEvent:  # fmt: skip
    """A closure; v2 fields (reason, exit) when given."""
    return event("case.closed", at, [(victim, "victim")], {"outcome": outcome, **v2}, agency=agency)


def marker(
    at: datetime, kind: str = "da_victim", person: str = VICTIM, removed: bool = False
) -> CanonicalEvent:
    if removed:
        return event(
            "marker.removed",
            at,
            [(person, "victim")],
            {"marker": kind, "reason": "expired"},
            agency=GP,
        )
    body = {"marker": kind, "since": at.date().isoformat()}
    return event("marker.added", at, [(person, "victim")], body, agency=GP)


def decision(
    type: str, alert_id: str, at: datetime, victim: str = VICTIM, **extra: Any
) -> CanonicalEvent:
    data = {"alert_id": alert_id, "actor": "TEST-CHAIR-A", "actor_role": "marac_chair", **extra}
    return internal_event(
        type, f"{type}:{alert_id}:{at.isoformat()}", at, (SubjectRef(victim, "victim"),), data
    )


def fold(
    events: Iterable[CanonicalEvent],
    person_of: Mapping[str, str] | None = None,
    family_id: str = "TEST-FAMILY-1",
) -> FamilyProjection:
    return apply_events(FamilyProjection(family_id), events, person_of or {})
