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

No single event can stop the projector: an event whose fold or rules raise is set apart
(hub.pipeline.isolation) while the rest of its family and batch are applied; it is recorded
in ``failed_events`` (its family needs attention) and returned for the dead-letter topic. A
database or broker outage is not the event's fault: it propagates and the batch is retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.adapters.sql import failed
from hub.adapters.sql.db import as_utc
from hub.adapters.sql.events import events_for_tokens
from hub.adapters.sql.failed import Failure
from hub.adapters.sql.progress import PROJECTOR
from hub.adapters.sql.schema import (
    case_members,
    clock,
    family_projections,
    processed_events,
    subject_tokens,
)
from hub.domain.areas import AreaBook
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection
from hub.domain.internal import CLOCK_TICKED
from hub.pipeline.alert_rows import withdraw_alerts
from hub.pipeline.isolation import Unsettled, describe, is_infrastructure
from hub.pipeline.linking import cases_of
from hub.pipeline.settle import (
    FamilyOutcome,
    Members,
    Settled,
    fold,
    project_family,
    settle_isolated,
    write_settled,
)

__all__ = ["CONSUMER", "BatchOutcome", "FamilyProjector", "Members", "fold"]

log = logging.getLogger(__name__)

CHUNK = 500
CONSUMER = PROJECTOR  # its name in the tracking table
# (base projection, events to fold into it, whether it is rebuilt from the store)
Start = tuple[FamilyProjection, list[CanonicalEvent], bool]


@dataclass
class BatchOutcome:
    alerts: list[dict[str, Any]] = field(default_factory=list)  # raised, updated, withdrawn
    failures: list[Failure] = field(default_factory=list)  # events set apart (failed_events)


class FamilyProjector:
    def __init__(self, engine: Engine, areas: AreaBook) -> None:
        self._engine = engine
        self._areas = areas

    def apply_batch(self, batch: Sequence[CanonicalEvent]) -> list[dict[str, Any]]:
        """Apply a batch; return the alert rows raised, updated or withdrawn (to announce)."""
        return self.process(batch).alerts

    def process(self, batch: Sequence[CanonicalEvent]) -> BatchOutcome:
        """Apply a batch in one transaction; events that cannot be applied are set apart.

        A write the database refuses (not an outage: those propagate, and the caller retries
        the batch) aborts the transaction, so the batch is then applied again family by
        family, each in a savepoint, to find the events behind it."""
        try:
            with self._engine.begin() as conn:
                return self.process_in(conn, batch)
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            log.warning("a write of the batch failed (%s); applying it family by family",
                        describe(exc)[0])  # fmt: skip
        with self._engine.begin() as conn:
            return self.process_in(conn, batch, careful=True)

    def apply_in(self, conn: Connection, batch: Sequence[CanonicalEvent]) -> list[dict[str, Any]]:
        return self.process_in(conn, batch).alerts

    def process_in(
        self, conn: Connection, batch: Sequence[CanonicalEvent], careful: bool = False
    ) -> BatchOutcome:
        unique = fresh_only(conn, CONSUMER, batch)
        if not unique:
            return BatchOutcome()
        conn.execute(
            insert(processed_events), [{"consumer": CONSUMER, "hub_id": e.hub_id} for e in unique]
        )
        ticks = [e for e in unique if e.type == CLOCK_TICKED]
        now_clock = advance_clock(conn, [datetime.fromisoformat(e.data["clock"]) for e in ticks])
        by_family: dict[str, list[CanonicalEvent]] = {}
        family_of = families_of(conn, {s.token for e in unique for s in e.subjects})
        # set apart already: a family rebuilt from the store met it before its delivery
        apart = failed.unresolved_ids(conn, [e.hub_id for e in unique])
        for e in (e for e in unique if e.hub_id not in apart):
            for fid in dict.fromkeys(f for s in e.subjects for f in family_of[s.token]):
                by_family.setdefault(fid, []).append(e)
        if ticks and now_clock is not None:
            for (fid,) in conn.execute(
                select(family_projections.c.family_id).where(
                    family_projections.c.next_due <= now_clock
                )
            ):
                by_family.setdefault(fid, [])
        current = read_clock(conn) if now_clock is None else now_clock
        out = BatchOutcome()
        settled: list[str] = []
        found: set[str] = set()
        fids = sorted(by_family)
        members_of = load_members_many(conn, fids)
        # the linker moved every token of a family on since we looked (a merge committed
        # between two reads under READ COMMITTED): the surviving family gets its events
        linked = [members_of[fid] for fid in fids if members_of[fid].person_of]
        starts = self._starts(conn, linked, by_family)
        to_write: list[tuple[Members, Settled, bool]] = []
        for members in linked:
            fid, start = members.family_id, starts[members.family_id]
            try:
                if careful:
                    done = project_family(conn, self._areas, members, start, current, True)
                else:
                    done, s = self._settle(members, start, current)
                    to_write.append((members, s, start[2]))
            except Unsettled as exc:
                # not one event's fault: the family keeps its projection, and what it was
                # given now (or the clock tick that woke it) is set apart with it
                blame = [e.hub_id for e in by_family[fid]] or [e.hub_id for e in ticks]
                out.failures += [Failure(h, fid, *describe(exc.cause)) for h in blame]
                continue
            found |= done.found
            out.alerts += done.changed
            out.failures += done.failures
            settled.append(fid)
        out.alerts += write_settled(conn, to_write)  # every family at once, in this order
        if out.failures:
            failed.record(conn, out.failures, datetime.now(UTC))
        # after every family is settled, so an alert that moved family in this batch stays
        out.alerts += withdraw_alerts(conn, settled, found)
        return out

    def _settle(
        self, members: Members, start: Start, clock: datetime | None
    ) -> tuple[FamilyOutcome, Settled]:
        """The family settled in memory (written with the batch's other families)."""
        computed = settle_isolated(self._areas, members, start, clock)
        s, fid = computed.result, members.family_id
        failures = [Failure(e.hub_id, fid, *describe(x)) for e, x in computed.failed]
        return FamilyOutcome({a.alert_id for a in s.alerts}, [], failures), s

    def _starts(
        self,
        conn: Connection,
        families: list[Members],
        fresh: dict[str, list[CanonicalEvent]],
    ) -> dict[str, Start]:
        """Per family: (base projection, events to fold into it, whether it is rebuilt from
        the store), read for every family of the batch in a few queries."""
        stored: dict[str, tuple[str, str]] = {}
        fids = [m.family_id for m in families]
        for i in range(0, len(fids), CHUNK):
            for fid, membership, state in conn.execute(
                select(
                    family_projections.c.family_id,
                    family_projections.c.membership,
                    family_projections.c.state,
                )
                .where(family_projections.c.family_id.in_(fids[i : i + CHUNK]))
                .with_for_update()  # `hub failed retry` may write the family too
            ):
                stored[fid] = (membership, state)
        out: dict[str, Start] = {}
        rebuild = []
        for m in families:
            row = stored.get(m.family_id)
            if row is not None and row[0] == m.membership:
                base = FamilyProjection.from_dict(json.loads(row[1]))
                out[m.family_id] = (base, fresh[m.family_id], False)
            else:
                rebuild.append(m)
        out |= self._rebuilds(conn, rebuild)
        return out

    @staticmethod
    def _rebuilds(conn: Connection, families: list[Members]) -> dict[str, Start]:
        """Families whose membership changed (new family, merge, split, person match), to be
        rebuilt from the store without their events set apart (they follow the family: it
        needs attention now); their histories read in one pass."""
        if not families:
            return {}
        family_of: dict[str, list[str]] = {}  # a perpetrator's token may be in several
        for m in families:
            for t in m.person_of:
                family_of.setdefault(t, []).append(m.family_id)
        history = events_for_tokens(conn, sorted(family_of))
        apart = failed.unresolved_ids(conn, [e.hub_id for _, e in history])
        evs: dict[str, list[CanonicalEvent]] = {m.family_id: [] for m in families}
        for _, e in history:  # store order
            for fid in dict.fromkeys(f for s in e.subjects for f in family_of.get(s.token, ())):
                evs[fid].append(e)
        out: dict[str, Start] = {}
        for fid, mine in evs.items():
            theirs = [e.hub_id for e in mine if e.hub_id in apart]
            if theirs:
                failed.move_to_family(conn, theirs, fid)
            out[fid] = (
                FamilyProjection.empty(fid),
                [e for e in mine if e.hub_id not in apart],
                True,
            )
        return out


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


def families_of(conn: Connection, tokens: set[str]) -> dict[str, list[str]]:
    """Each token's cases (a perpetrator-only token may be in several)."""
    out = cases_of(conn, sorted(tokens))
    missing = tokens - out.keys()
    if missing:  # the linker always runs before the projector; never expected
        raise LookupError(f"{len(missing)} subject tokens are not linked yet; run `hub replay`")
    return out


def load_members(conn: Connection, fid: str) -> Members:
    return load_members_many(conn, [fid])[fid]


def load_members_many(conn: Connection, fids: Sequence[str]) -> dict[str, Members]:
    """Each family's tokens and their persons (empty when no token is in it any more),
    with the perpetrators attached to it from his other cases."""
    person_of: dict[str, dict[str, str]] = {fid: {} for fid in fids}
    attached: dict[str, set[str]] = {fid: set() for fid in fids}
    ordered = sorted(person_of)
    for i in range(0, len(ordered), CHUNK):
        part = ordered[i : i + CHUNK]
        for t, p, fid in conn.execute(
            select(
                subject_tokens.c.token, subject_tokens.c.person_id, subject_tokens.c.family_id
            ).where(subject_tokens.c.family_id.in_(part))
        ):
            person_of[fid][t] = p
        for t, p, fid in conn.execute(
            select(case_members.c.token, subject_tokens.c.person_id, case_members.c.family_id)
            .join(subject_tokens, subject_tokens.c.token == case_members.c.token)
            .where(case_members.c.family_id.in_(part))
        ):
            person_of[fid][t] = p
            attached[fid].add(t)
    return {fid: Members(fid, person_of[fid], frozenset(attached[fid])) for fid in fids}


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
