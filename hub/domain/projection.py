"""The per-victim projection: a fold of canonical events, independent of arrival order.

A first step towards the per-family projection. State depends only on the set of events
applied, so redelivery (skipped by the caller's tracking rows) and out-of-order arrival
end in the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hub.domain.events import CanonicalEvent


@dataclass(frozen=True)
class DashSnapshot:
    score: int
    time: str
    hub_id: str


@dataclass(frozen=True)
class VictimProjection:
    victim_token: str
    event_count: int = 0
    incident_count: int = 0
    referral_count: int = 0
    first_event_time: str | None = None
    last_event_time: str | None = None
    latest_dash: DashSnapshot | None = None
    perpetrators: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    lawful_bases: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "victim_token": self.victim_token,
            "event_count": self.event_count,
            "incident_count": self.incident_count,
            "referral_count": self.referral_count,
            "first_event_time": self.first_event_time,
            "last_event_time": self.last_event_time,
            "latest_dash": None if self.latest_dash is None else vars(self.latest_dash),
            "perpetrators": list(self.perpetrators),
            "agencies": list(self.agencies),
            "lawful_bases": list(self.lawful_bases),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VictimProjection:
        dash = d.get("latest_dash")
        return cls(
            victim_token=d["victim_token"],
            event_count=d["event_count"],
            incident_count=d["incident_count"],
            referral_count=d["referral_count"],
            first_event_time=d["first_event_time"],
            last_event_time=d["last_event_time"],
            latest_dash=None if dash is None else DashSnapshot(**dash),
            perpetrators=tuple(d["perpetrators"]),
            agencies=tuple(d["agencies"]),
            lawful_bases=tuple(d["lawful_bases"]),
        )


def _union(items: tuple[str, ...], *new: str | None) -> tuple[str, ...]:
    return tuple(sorted(set(items) | {n for n in new if n}))


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _earliest(current: str | None, new: datetime) -> str:
    return new.isoformat() if current is None or new < _instant(current) else current


def _latest(current: str | None, new: datetime) -> str:
    return new.isoformat() if current is None or new > _instant(current) else current


def apply_event(p: VictimProjection, e: CanonicalEvent) -> VictimProjection:
    """Fold one event into the victim's projection (the caller skips events already applied)."""
    dash = p.latest_dash
    if e.type == "risk.dash":
        candidate = DashSnapshot(int(e.data["score"]), e.time.isoformat(), e.hub_id)
        # latest by event time (as instants); ties broken by id so arrival order never matters
        if dash is None or (e.time, e.hub_id) > (_instant(dash.time), dash.hub_id):
            dash = candidate
    perpetrators = tuple(s.token for s in e.subjects if s.role == "perpetrator")
    return replace(
        p,
        event_count=p.event_count + 1,
        incident_count=p.incident_count + (e.type == "police.incident"),
        referral_count=p.referral_count + (e.type == "referral.made"),
        first_event_time=_earliest(p.first_event_time, e.time),
        last_event_time=_latest(p.last_event_time, e.time),
        latest_dash=dash,
        perpetrators=_union(p.perpetrators, *perpetrators),
        agencies=_union(p.agencies, e.agency_id),
        lawful_bases=_union(p.lawful_bases, e.lawful_basis),
    )
