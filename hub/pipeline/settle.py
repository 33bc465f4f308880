"""Settling one family: fold its pending events into its projection, run the rules, write the
projection and its alerts, with poison events set apart (hub.pipeline.isolation).

``settle`` is pure: the projector and the replay call it for every family. Only an event
whose fold or rules raise is set apart; the family is written with the rest and needs
attention until the event is retried (`hub failed retry`) or a replay applies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hub.adapters.sql.failed import Failure
from hub.adapters.sql.schema import family_projections, family_redirects
from hub.domain.areas import AreaBook, victim_area
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection, apply_events
from hub.domain.rules import Alert, evaluate, next_due
from hub.pipeline.alert_rows import upsert_alerts_many
from hub.pipeline.isolation import Isolated, describe, isolate

CHUNK = 500


@dataclass(frozen=True)
class Members:
    family_id: str
    person_of: dict[str, str]  # token → person id
    # tokens of perpetrators attached to this case and his others (hub.domain.identity)
    attached: frozenset[str] = frozenset()

    @property
    def membership(self) -> str:
        pairs = "\n".join(
            f"{t}\t{p}" + ("\tattached" if t in self.attached else "")
            for t, p in sorted(self.person_of.items())
        )
        return hashlib.sha256(pairs.encode()).hexdigest()


@dataclass(frozen=True)
class Settled:
    """A family's new projection and what the rules find in it, not written yet."""

    projection: FamilyProjection
    state: str  # the projection as stored (JSON)
    due: datetime | None
    alerts: list[Alert]


@dataclass
class FamilyOutcome:
    found: set[str] = field(default_factory=set)  # alert ids the rules find now
    changed: list[dict[str, Any]] = field(default_factory=list)  # alert rows written
    failures: list[Failure] = field(default_factory=list)


def fold(fid: str, evs: Iterable[CanonicalEvent], members: Members) -> FamilyProjection:
    return apply_events(FamilyProjection.empty(fid), evs, members.person_of, members.attached)


def settle(
    base: FamilyProjection,
    evs: Sequence[CanonicalEvent],
    members: Members,
    areas: AreaBook,
    clock: datetime | None,
) -> Settled:
    """base with evs folded in, its rules run on the clock (pure; raises what they raise)."""
    p = apply_events(base, evs, members.person_of, members.attached)
    area = victim_area(p, areas)
    state = json.dumps(p.to_dict(), sort_keys=True, separators=(",", ":"))
    return Settled(p, state, next_due(p, area, clock), evaluate(p, area, clock))


def project_family(
    conn: Connection,
    areas: AreaBook,
    members: Members,
    start: tuple[FamilyProjection, list[CanonicalEvent], bool],
    clock: datetime | None,
    careful: bool = False,
) -> FamilyOutcome:
    """Fold the pending events into base, write the projection and upsert its alerts; return
    the alerts found and written, and the events set apart. start is (base, pending, rebuilt:
    whether base is empty and pending every stored event of the family).

    The search for poison events is pure; with careful, each attempt also writes, in a
    savepoint rolled back, so that an event the database refuses is set apart too."""
    base, pending, rebuilt = start

    def compute(evs: list[CanonicalEvent]) -> Settled:
        return settle(base, evs, members, areas, clock)

    def write(s: Settled) -> list[dict[str, Any]]:
        return write_settled(conn, [(members, s, rebuilt)])

    if careful:

        def trial(evs: list[CanonicalEvent]) -> None:
            with conn.begin_nested() as savepoint:
                write(compute(evs))
                savepoint.rollback()

        tried = isolate(trial, pending)
        with conn.begin_nested():
            s = compute(tried.applied)
            changed = write(s)
        failed = tried.failed
    else:
        computed = isolate(compute, pending)
        s, failed = computed.result, computed.failed
        changed = write(s)
    failures = [Failure(e.hub_id, members.family_id, *describe(exc)) for e, exc in failed]
    return FamilyOutcome({a.alert_id for a in s.alerts}, changed, failures)


def settle_isolated(
    areas: AreaBook,
    members: Members,
    start: tuple[FamilyProjection, list[CanonicalEvent], bool],
    clock: datetime | None,
) -> Isolated[CanonicalEvent, Settled]:
    """The family settled with what it can apply, and the events it cannot (pure)."""
    base, pending, _rebuilt = start
    return isolate(lambda evs: settle(base, evs, members, areas, clock), pending)


def write_settled(
    conn: Connection, families: Sequence[tuple[Members, Settled, bool]]
) -> list[dict[str, Any]]:
    """Store settled families (members, settled, rebuilt) and upsert their alerts, in a few
    statements whatever their number; return the alert rows that changed."""
    write_projections(conn, [(m, s.state, s.due, rebuilt) for m, s, rebuilt in families])
    return upsert_alerts_many(conn, [(s.alerts, s.projection) for _, s, _ in families])


def write_projections(
    conn: Connection, families: Sequence[tuple[Members, str, datetime | None, bool]]
) -> None:
    """Store the families' projections (members, state, next due, rebuilt); a rebuilt one
    replaces those of families it absorbed."""
    rebuilt = sorted(m.family_id for m, _, _, r in families if r)
    for i in range(0, len(rebuilt), CHUNK):
        absorbed = select(family_redirects.c.old_id).where(
            family_redirects.c.new_id.in_(rebuilt[i : i + CHUNK])
        )
        conn.execute(delete(family_projections).where(family_projections.c.family_id.in_(absorbed)))
    fids = [m.family_id for m, _, _, _ in families]
    stored: set[str] = set()
    for i in range(0, len(fids), CHUNK):
        stored |= set(
            conn.execute(
                select(family_projections.c.family_id).where(
                    family_projections.c.family_id.in_(fids[i : i + CHUNK])
                )
            ).scalars()
        )
    now = datetime.now(UTC)
    rows = [
        {"family_id": m.family_id, "membership": m.membership, "state": state, "next_due": due,
         "updated_at": now}
        for m, state, due, _ in families
    ]  # fmt: skip
    changed = [{f"b_{k}": v for k, v in r.items()} for r in rows if r["family_id"] in stored]
    if changed:
        conn.execute(
            update(family_projections)
            .where(family_projections.c.family_id == bindparam("b_family_id"))
            .values({k: bindparam(f"b_{k}") for k in rows[0] if k != "family_id"}),
            changed,
        )
    new = [r for r in rows if r["family_id"] not in stored]
    if new:
        conn.execute(insert(family_projections), new)
