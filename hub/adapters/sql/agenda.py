"""Reads of the event store the Marac agenda needs: hearings (to find an area's last meeting)
and referrals to Marac (to find cases no rule alerted on). Read-only; a SQL filter on the
event type and time first, so only the few matching bodies are parsed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from hub.adapters.sql.alerts import start_of
from hub.adapters.sql.schema import events
from hub.contract.vocabulary import EventType
from hub.domain.events import CanonicalEvent

HEARD = EventType.MARAC_CASE_HEARD
REFERRAL = EventType.REFERRAL_MADE


def hearings_in_area(engine: Engine, area: str) -> list[CanonicalEvent]:
    """Every hearing of the area's Marac, whoever recorded it."""
    with engine.connect() as conn:
        bodies = conn.execute(select(events.c.body).where(events.c.type == HEARD)).scalars()
        found = [CanonicalEvent.from_json(body) for body in bodies]
    return [e for e in found if e.data.get("area") == area]


def last_meeting(engine: Engine, area: str) -> date | None:
    """The latest meeting date of the area's Marac heard in any case (None: never met)."""
    days = [
        date.fromisoformat(e.data["meeting_date"])
        for e in hearings_in_area(engine, area)
        if isinstance(e.data.get("meeting_date"), str)
    ]
    return max(days, default=None)


def marac_referrals(engine: Engine, since: date | None) -> list[CanonicalEvent]:
    """Referrals to Marac with event time on or after ``since`` (every one when None)."""
    query = select(events.c.body).where(events.c.type == REFERRAL)
    if since is not None:
        query = query.where(events.c.event_time >= start_of(since))
    with engine.connect() as conn:
        found = [CanonicalEvent.from_json(b) for b in conn.execute(query).scalars()]
    return [e for e in found if e.data.get("to") == "marac"]
