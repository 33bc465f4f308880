"""Queries the rules and views share: pure functions of a family's timeline.

They take any object with a ``timeline`` (FamilyTimeline), not FamilyProjection itself, so
views.py and lifecycle.py can use them without importing projection.py, which imports views.py
to write its document: the modules of this package import one way, entry → queries →
lifecycle → views → projection.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from hub.contract.vocabulary import EventType
from hub.domain.family.entry import Entry


class FamilyTimeline(Protocol):
    """A family as the queries and views read it: its entries in (event time, hub id) order."""

    @property
    def timeline(self) -> tuple[Entry, ...]: ...


def persons_in_role(p: FamilyTimeline, role: str) -> tuple[str, ...]:
    """Persons named in that role by any agency event, sorted."""
    return tuple(
        sorted(
            {
                s.person_id
                for e in p.timeline
                if not e.internal
                for s in e.subjects
                if s.role == role
            }
        )
    )


def victims(p: FamilyTimeline) -> tuple[str, ...]:
    return persons_in_role(p, "victim")


def select(
    p: FamilyTimeline,
    types: Collection[str],
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Entry]:
    """Agency events of these types about the person (if given) with start <= time <= end."""
    return [
        e
        for e in p.timeline
        if e.type in types
        and not e.internal
        and (person is None or e.is_about(person))
        and (start is None or e.time >= start)
        and (end is None or e.time <= end)
    ]


def count(
    p: FamilyTimeline,
    types: Collection[str],
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """How many events select() finds: the rolling-window counts rules use."""
    return len(select(p, types, person, start, end))


def hearings_of(p: FamilyTimeline, victim: str) -> list[Entry]:
    """The victim's Marac hearings in timeline order."""
    return [
        e for e in p.timeline if e.type == EventType.MARAC_CASE_HEARD and e.names(victim, "victim")
    ]


def marac_cycle(p: FamilyTimeline, victim: str, t: datetime) -> str:
    """The hub id of the victim's latest hearing at or before t, or "none": the Marac cycle
    an event at t belongs to."""
    latest = [h for h in hearings_of(p, victim) if h.time <= t]
    return latest[-1].hub_id if latest else "none"
