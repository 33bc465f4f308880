"""Builders of canonical events (already pseudonymised) about obviously fake people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.contract.versions import CURRENT_VERSION
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id

VICTIM = "st_testvictimalexexample"
PERPETRATOR = "st_testperpetratorsamsample"
EVENT_TIME = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
RECORDED_AT = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def canonical_event(
    source_id: str = "TEST-EVENT-1",
    *,
    type: str = "police.incident",
    agency_id: str = "TEST-POLICE-A",
    agency_type: str = "police",
    time: datetime = EVENT_TIME,
    recorded_at: datetime = RECORDED_AT,
    victim: str = VICTIM,
    perpetrators: tuple[str, ...] = (PERPETRATOR,),
    lawful_basis: str | None = "dpa2018-part3",
    consent_ref: str | None = None,
    data: dict[str, Any] | None = None,
) -> CanonicalEvent:
    subjects = (SubjectRef(victim, "victim"), *(SubjectRef(p, "perpetrator") for p in perpetrators))
    return CanonicalEvent(
        hub_id=hub_event_id(agency_id, source_id),
        source_id=source_id,
        agency_id=agency_id,
        agency_type=agency_type,
        type=type,
        time=time,
        recorded_at=recorded_at,
        lawful_basis=lawful_basis,
        consent_ref=consent_ref,
        subjects=subjects,
        data={"abuse_types": ["physical"]} if data is None else data,
        schema_version=CURRENT_VERSION[type],
    )


def dash_event(score: int, source_id: str = "TEST-DASH-1", **over: Any) -> CanonicalEvent:
    """A Dash risk assessment as ingress stores it: the score is the count of 'yes' answers."""
    answers = ["yes"] * score + ["no"] * (24 - score)
    data = {"answers": answers, "score": score, "assessor_role": "idva"}
    over.setdefault("agency_id", "TEST-IDVA-A")
    over.setdefault("agency_type", "idva")
    over.setdefault("lawful_basis", "ukgdpr-6-1-e")
    return canonical_event(source_id, type="risk.dash", data=data, **over)
