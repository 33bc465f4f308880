"""The failed_events table: events the projector set apart (hub/pipeline/isolation.py).

A row is *unresolved* (status open, or retried: an operator's retry failed again) until a
retry or a replay applies the event (resolved). Projections are folded without unresolved
events, and a family with an unresolved row needs attention.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import failed_events

CHUNK = 500
UNRESOLVED = ("open", "retried")


@dataclass(frozen=True)
class Failure:
    """One event that could not be applied to one family, and why (no personal data)."""

    hub_id: str
    family_id: str
    error_type: str
    message: str


@dataclass(frozen=True)
class FailedEvent:
    hub_id: str
    family_id: str
    first_failed_at: datetime
    last_failed_at: datetime
    error_type: str
    last_error: str
    attempts: int
    status: str


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def record(
    conn: Connection, failures: Sequence[Failure], now: datetime, status: str | None = None
) -> None:
    """Insert or update a row per failure: one more attempt, status open for a new or resolved
    row, else status (None: as it was)."""
    last = {f.hub_id: f for f in failures}  # an event failing in two families: the last one
    known = {
        r.hub_id: r.status
        for part in _chunks(last)
        for r in conn.execute(
            select(failed_events.c.hub_id, failed_events.c.status).where(
                failed_events.c.hub_id.in_(part)
            )
        )
    }
    for hub_id, f in sorted(last.items()):
        values = {
            "family_id": f.family_id, "last_failed_at": now, "error_type": f.error_type[:64],
            "last_error": f.message, "resolved_at": None,
        }  # fmt: skip
        if hub_id not in known:
            conn.execute(
                insert(failed_events).values(
                    hub_id=hub_id, first_failed_at=now, attempts=1, status="open", **values
                )
            )
            continue
        again = (status or known[hub_id]) if known[hub_id] in UNRESOLVED else "open"
        conn.execute(
            update(failed_events)
            .where(failed_events.c.hub_id == hub_id)
            .values(attempts=failed_events.c.attempts + 1, status=again, **values)
        )


def unresolved_ids(conn: Connection, hub_ids: Iterable[str]) -> set[str]:
    """Those of hub_ids with an unresolved row."""
    out: set[str] = set()
    for part in _chunks(hub_ids):
        out.update(
            conn.execute(
                select(failed_events.c.hub_id).where(
                    failed_events.c.hub_id.in_(part), failed_events.c.status.in_(UNRESOLVED)
                )
            ).scalars()
        )
    return out


def move_to_family(conn: Connection, hub_ids: Iterable[str], family_id: str) -> None:
    """The family these set-apart events belong to now (after a merge or a split)."""
    for part in _chunks(hub_ids):
        conn.execute(
            update(failed_events)
            .where(failed_events.c.hub_id.in_(part), failed_events.c.family_id != family_id)
            .values(family_id=family_id)
        )


def resolve(conn: Connection, hub_ids: Iterable[str], now: datetime) -> int:
    """Mark these rows resolved (their events are applied now); return how many were open."""
    done = 0
    for part in _chunks(hub_ids):
        done += conn.execute(
            update(failed_events)
            .where(failed_events.c.hub_id.in_(part), failed_events.c.status.in_(UNRESOLVED))
            .values(status="resolved", resolved_at=now)
        ).rowcount
    return done


def rows(
    conn: Connection, hub_ids: Sequence[str] | None = None, everything: bool = False
) -> list[FailedEvent]:
    """Rows in first-failure order: unresolved ones (every one with everything), or these."""
    q = select(failed_events).order_by(failed_events.c.first_failed_at, failed_events.c.hub_id)
    if hub_ids is not None:
        q = q.where(failed_events.c.hub_id.in_(sorted(set(hub_ids))))
    if not everything:
        q = q.where(failed_events.c.status.in_(UNRESOLVED))
    out = []
    for r in conn.execute(q):
        first, last = as_utc(r.first_failed_at), as_utc(r.last_failed_at)
        row = FailedEvent(
            r.hub_id, r.family_id, first, last, r.error_type, r.last_error, r.attempts,
            r.status,
        )  # fmt: skip
        out.append(row)
    return out


def unresolved_count(engine: Engine) -> int:
    """How many events are set apart now (for readiness and the operator)."""
    with engine.connect() as conn:
        q = select(func.count()).where(failed_events.c.status.in_(UNRESOLVED))
        return int(conn.execute(q).scalar_one())


def needs_attention(engine: Engine, family_id: str) -> bool:
    """True when an event of the family is set apart (failed and not resolved)."""
    with engine.connect() as conn:
        q = select(failed_events.c.hub_id).where(
            failed_events.c.family_id == family_id, failed_events.c.status.in_(UNRESOLVED)
        )
        return conn.execute(q.limit(1)).first() is not None
