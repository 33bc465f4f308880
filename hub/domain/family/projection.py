"""The family projection: a timeline sorted by (event time, hub id), and the case's links.

A family is the victim's case. An event naming its attached perpetrator (hub.domain.identity)
with people of none of its other members is not part of this case's history: it is a *link*,
kept apart in ``links`` for the rules that look across cases (serial perpetrator) and never
in the timeline the views are drawn from.

Every other view (members, relations, risk, ...) is a pure function of the timeline, so the
state depends only on the set of events applied: redelivery changes nothing (an event already
in the timeline is ignored) and arrival order never matters. The clock (the latest
``hub.clock.ticked`` applied) is a maximum, so it is order-independent too; ticks are not
timeline entries.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hub.domain.events import CanonicalEvent
from hub.domain.family.entry import Entry, entry_of
from hub.domain.family.views import derived_views
from hub.domain.internal import CLOCK_TICKED

FORMAT = 1  # version of to_dict's shape


@dataclass(frozen=True)
class FamilyProjection:
    family_id: str
    timeline: tuple[Entry, ...] = ()
    clock: datetime | None = None
    links: tuple[Entry, ...] = ()  # events of the perpetrator's other cases, by (time, hub id)
    hub_ids: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.hub_ids) != len(self.timeline) + len(self.links):
            ids = frozenset(e.hub_id for e in (*self.timeline, *self.links))
            object.__setattr__(self, "hub_ids", ids)

    @classmethod
    def empty(cls, family_id: str) -> FamilyProjection:
        return cls(family_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the timeline (the state) and the derived views (for readers)."""
        return {
            "format": FORMAT,
            "family_id": self.family_id,
            "clock": None if self.clock is None else self.clock.isoformat(),
            "timeline": [e.to_dict() for e in self.timeline],
            "links": [e.to_dict() for e in self.links],
            **derived_views(self),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FamilyProjection:
        """Read to_dict's output back (the views are derived again, never trusted)."""
        clock = d.get("clock")
        return cls(
            family_id=d["family_id"],
            timeline=tuple(sorted((Entry.from_dict(e) for e in d["timeline"]), key=_key)),
            clock=None if clock is None else datetime.fromisoformat(clock),
            links=tuple(sorted((Entry.from_dict(e) for e in d.get("links", ())), key=_key)),
        )


def _key(e: Entry) -> tuple[datetime, str]:
    return e.key


def _tick(e: CanonicalEvent) -> datetime:
    raw = e.data.get("clock")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else e.time


def is_link(e: CanonicalEvent, person_of: Mapping[str, str], attached: Set[str]) -> bool:
    """The event names a perpetrator attached to this case with people outside it, and none
    of the case's own members: it belongs to another of his cases."""
    tokens = {s.token for s in e.subjects}
    if not tokens & attached:
        return False
    core = person_of.keys() - attached
    return not tokens & core and bool(tokens - attached)


def apply_event(
    p: FamilyProjection,
    e: CanonicalEvent,
    person_of: Mapping[str, str],
    attached: Set[str] = frozenset(),
) -> FamilyProjection:
    """The projection with one more event; an event already applied changes nothing."""
    return apply_events(p, (e,), person_of, attached)


def apply_events(
    p: FamilyProjection,
    events: Iterable[CanonicalEvent],
    person_of: Mapping[str, str],
    attached: Set[str] = frozenset(),
) -> FamilyProjection:
    """The projection with several more events (one copy of the timeline for the batch).
    person_of maps the case's tokens to persons; attached are its perpetrators' tokens that
    belong to other cases too (an event naming them with outsiders only is a link)."""
    timeline, ids, clock = list(p.timeline), set(p.hub_ids), p.clock
    links = list(p.links)
    for e in events:
        if e.type == CLOCK_TICKED:
            t = _tick(e)
            clock = t if clock is None or t > clock else clock
        elif e.hub_id not in ids:
            ids.add(e.hub_id)
            into = links if is_link(e, person_of, attached) else timeline
            bisect.insort(into, entry_of(e, person_of), key=_key)
    if len(timeline) == len(p.timeline) and len(links) == len(p.links) and clock == p.clock:
        return p
    return replace(
        p, timeline=tuple(timeline), links=tuple(links), clock=clock, hub_ids=frozenset(ids)
    )
