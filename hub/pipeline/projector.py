"""The family projector: folds events into per-family projections and keeps alerts current.

For each family an event belongs to (its subjects' families, from the person index the
linker keeps), the projector brings the family's projection up to date: when the family's
membership (tokens and persons) differs from what the stored projection was built for, it
rebuilds the projection from the event store, both histories after a merge; otherwise it
folds the new events (the fold ignores events it already holds, so redelivery changes
nothing). Then it runs every rule over the whole projection and makes the family's alerts
exactly what the rules find now: a new alert is inserted, a changed one updated with a new
revision, and one the rules no longer find is withdrawn (hub.pipeline.alert_rows says why),
so a replay and the live path end with the same alerts whatever order events came in.

Time rules run on the hub clock: the latest ``hub.clock.ticked`` event, never the wall clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.events import events_for_tokens
from hub.adapters.sql.progress import PROJECTOR
from hub.adapters.sql.schema import (
    clock,
    family_projections,
    family_redirects,
    processed_events,
    subject_tokens,
)
from hub.domain.areas import AreaBook, victim_area
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection, apply_events
from hub.domain.internal import CLOCK_TICKED
from hub.domain.rules import evaluate, next_due
from hub.pipeline.alert_rows import upsert_alerts, withdraw_alerts

CHUNK = 500
CONSUMER = PROJECTOR  # its name in the tracking table


@dataclass(frozen=True)
class Members:
    family_id: str
    person_of: dict[str, str]  # token → person id

    @property
    def membership(self) -> str:
        pairs = "\n".join(f"{t}\t{p}" for t, p in sorted(self.person_of.items()))
        return hashlib.sha256(pairs.encode()).hexdigest()


class FamilyProjector:
    def __init__(self, engine: Engine, areas: AreaBook) -> None:
        self._engine = engine
        self._areas = areas

    def apply_batch(self, batch: Sequence[CanonicalEvent]) -> list[dict[str, Any]]:
        """Apply a batch; return the alert rows raised, updated or withdrawn (to announce)."""
        with self._engine.begin() as conn:
            return self.apply_in(conn, batch)

    def apply_in(self, conn: Connection, batch: Sequence[CanonicalEvent]) -> list[dict[str, Any]]:
        unique = fresh_only(conn, CONSUMER, batch)
        if not unique:
            return []
        conn.execute(
            insert(processed_events), [{"consumer": CONSUMER, "hub_id": e.hub_id} for e in unique]
        )
        ticks = [e for e in unique if e.type == CLOCK_TICKED]
        now_clock = advance_clock(conn, [datetime.fromisoformat(e.data["clock"]) for e in ticks])
        by_family: dict[str, list[CanonicalEvent]] = {}
        family_of = _families_of(conn, {s.token for e in unique for s in e.subjects})
        for e in unique:
            for fid in dict.fromkeys(family_of[s.token] for s in e.subjects):
                by_family.setdefault(fid, []).append(e)
        if ticks and now_clock is not None:
            for (fid,) in conn.execute(
                select(family_projections.c.family_id).where(
                    family_projections.c.next_due <= now_clock
                )
            ):
                by_family.setdefault(fid, [])
        changed: list[dict[str, Any]] = []
        settled: list[str] = []
        found: set[str] = set()
        for fid in sorted(by_family):
            members = load_members(conn, fid)
            if not members.person_of:
                # the linker moved every token on since we looked (a merge committed between
                # two reads under READ COMMITTED): the surviving family gets these events
                continue
            p = self._refresh(conn, members, by_family[fid])
            changed += self._settle(conn, p, members, now_clock, found)
            settled.append(fid)
        # after every family is settled, so an alert that moved family in this batch stays
        return changed + withdraw_alerts(conn, settled, found)

    def _refresh(
        self, conn: Connection, members: Members, fresh: list[CanonicalEvent]
    ) -> FamilyProjection:
        fid = members.family_id
        row = conn.execute(
            select(family_projections.c.membership, family_projections.c.state).where(
                family_projections.c.family_id == fid
            )
        ).one_or_none()
        if row is not None and row.membership == members.membership:
            p = FamilyProjection.from_dict(json.loads(row.state))
            return apply_events(p, fresh, members.person_of)
        # membership changed (new family, merge, split, person match): rebuild from the store
        p = fold(fid, [e for _, e in events_for_tokens(conn, sorted(members.person_of))], members)
        absorbed = select(family_redirects.c.old_id).where(family_redirects.c.new_id == fid)
        conn.execute(delete(family_projections).where(family_projections.c.family_id.in_(absorbed)))
        return p

    def _settle(
        self,
        conn: Connection,
        p: FamilyProjection,
        members: Members,
        now_clock: datetime | None,
        found: set[str],
    ) -> list[dict[str, Any]]:
        """Store the projection and upsert the alerts it meets now (their ids added to found)."""
        area = victim_area(p, self._areas)
        current = read_clock(conn) if now_clock is None else now_clock
        write_projection(conn, p, members.membership, next_due(p, area, current))
        alerts_now = evaluate(p, area, current)
        found.update(a.alert_id for a in alerts_now)
        return upsert_alerts(conn, alerts_now, p)


def fresh_only(
    conn: Connection, consumer: str, batch: Sequence[CanonicalEvent]
) -> list[CanonicalEvent]:
    """The batch without repeats and without events this consumer already applied (its
    tracking rows are written in the same transaction as the effect)."""
    unique = {e.hub_id: e for e in batch}
    ids = sorted(unique)
    for i in range(0, len(ids), CHUNK):
        for done in conn.execute(
            select(processed_events.c.hub_id).where(
                processed_events.c.consumer == consumer,
                processed_events.c.hub_id.in_(ids[i : i + CHUNK]),
            )
        ).scalars():
            unique.pop(done, None)
    return list(unique.values())


def fold(fid: str, evs: Iterable[CanonicalEvent], members: Members) -> FamilyProjection:
    return apply_events(FamilyProjection.empty(fid), evs, members.person_of)


def _families_of(conn: Connection, tokens: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    ordered = sorted(tokens)
    for i in range(0, len(ordered), CHUNK):
        out.update(
            conn.execute(
                select(subject_tokens.c.token, subject_tokens.c.family_id).where(
                    subject_tokens.c.token.in_(ordered[i : i + CHUNK])
                )
            ).all()
        )
    missing = tokens - out.keys()
    if missing:  # the linker always runs before the projector; never expected
        raise LookupError(f"{len(missing)} subject tokens are not linked yet; run `hub replay`")
    return out


def load_members(conn: Connection, fid: str) -> Members:
    rows = conn.execute(
        select(subject_tokens.c.token, subject_tokens.c.person_id).where(
            subject_tokens.c.family_id == fid
        )
    ).all()
    return Members(fid, {t: p for t, p in rows})


def write_projection(
    conn: Connection, p: FamilyProjection, membership: str, due: datetime | None
) -> None:
    values = {
        "membership": membership,
        "state": json.dumps(p.to_dict(), sort_keys=True, separators=(",", ":")),
        "next_due": due,
        "updated_at": datetime.now(UTC),
    }
    done = conn.execute(
        update(family_projections)
        .where(family_projections.c.family_id == p.family_id)
        .values(**values)
    ).rowcount
    if not done:
        conn.execute(insert(family_projections).values(family_id=p.family_id, **values))


def advance_clock(conn: Connection, ticks: list[datetime]) -> datetime | None:
    """Move the hub clock forward to the latest tick (never back); None without ticks."""
    if not ticks:
        return None
    latest = max(ticks)
    current = read_clock(conn)
    if current is None:
        conn.execute(insert(clock).values(name="hub", at=latest))
    elif latest > current:
        conn.execute(update(clock).where(clock.c.name == "hub").values(at=latest))
    return max(latest, current) if current else latest


def read_clock(conn: Connection) -> datetime | None:
    at = conn.execute(select(clock.c.at).where(clock.c.name == "hub")).scalar_one_or_none()
    return None if at is None else as_utc(at)


def family_state_of_token(engine: Engine, token: str) -> dict[str, Any] | None:
    """The projection (as stored) of the family a subject token belongs to, or None."""
    with engine.connect() as conn:
        fid = conn.execute(
            select(subject_tokens.c.family_id).where(subject_tokens.c.token == token)
        ).scalar_one_or_none()
        if fid is None:
            return None
        state = conn.execute(
            select(family_projections.c.state).where(family_projections.c.family_id == fid)
        ).scalar_one_or_none()
    return None if state is None else dict(json.loads(state))
