"""What the reports share: their error, and how they read a family's people."""

from __future__ import annotations

from datetime import datetime

from hub.domain.family import Entry, FamilyProjection


class ReportError(ValueError):
    """A report cannot be drawn as asked; the message says what to change."""


def agency_entries(p: FamilyProjection, end: datetime | None = None) -> list[Entry]:
    """The family's agency events (not the hub's own), before end when given."""
    return [e for e in p.timeline if not e.internal and (end is None or e.time < end)]


def primary_tokens(p: FamilyProjection) -> dict[str, str]:
    """person id → the token of their earliest agency event (as alerts name them)."""
    out: dict[str, str] = {}
    for e in p.timeline:
        if not e.internal:
            for s in e.subjects:
                out.setdefault(s.person_id, s.token)
    return out
