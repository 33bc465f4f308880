"""Retrying events set apart (`hub failed retry`): after a fix, apply them through the projector.

Each family an event belongs to now is rebuilt from the event store with the events being
retried put back (other events still set apart stay out), its rules run on the hub clock and
its projection and alerts written, in one transaction. An event that applies is resolved (the
family no longer needs attention for it); one that fails again stays set apart, marked
retried, with the new reason. Alerts it raises reach the inbox through the alerts table (the
live stream reads it); hub.alerts.v1 is not told, as no worker runs this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from hub.adapters.sql import failed
from hub.adapters.sql.events import events_for_tokens
from hub.adapters.sql.failed import Failure
from hub.adapters.sql.schema import events, family_projections
from hub.domain.areas import AreaBook
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection
from hub.pipeline.alert_rows import withdraw_alerts
from hub.pipeline.isolation import Unsettled, describe
from hub.pipeline.projector import families_of, load_members, read_clock
from hub.pipeline.settle import project_family


@dataclass(frozen=True)
class RetryResult:
    resolved: list[str]  # hub ids applied now
    failing: list[Failure]  # set apart still (or newly), with the reason
    unknown: list[str]  # asked for, but not set apart (never, or resolved already)


def retry(engine: Engine, areas: AreaBook, hub_ids: Sequence[str] | None = None) -> RetryResult:
    """Retry these events set apart (every unresolved one when hub_ids is None)."""
    with engine.begin() as conn:
        chosen = {r.hub_id for r in failed.rows(conn, hub_ids)}
        unknown = sorted(set(hub_ids or ()) - chosen)
        if not chosen:
            return RetryResult([], [], unknown)
        failures = _reapply(conn, areas, chosen)
        now = datetime.now(UTC)
        failing = {f.hub_id for f in failures}
        failed.resolve(conn, chosen - failing, now)
        failed.record(conn, failures, now, status="retried")
    return RetryResult(sorted(chosen - failing), failures, unknown)


def _reapply(conn: Connection, areas: AreaBook, chosen: set[str]) -> list[Failure]:
    """Rebuild the families of the chosen events with them; return what failed."""
    stored = [
        CanonicalEvent.from_json(body)
        for body in conn.execute(select(events.c.body).where(events.c.hub_id.in_(sorted(chosen))))
        .scalars()
    ]  # fmt: skip
    family_of = families_of(conn, {s.token for e in stored for s in e.subjects})
    clock = read_clock(conn)
    failures: list[Failure] = []
    settled: list[str] = []
    found: set[str] = set()
    for fid in sorted({f for fids in family_of.values() for f in fids}):
        members = load_members(conn, fid)
        conn.execute(  # the worker may be writing the family: one writer at a time
            select(family_projections.c.family_id)
            .where(family_projections.c.family_id == fid)
            .with_for_update()
        ).all()
        evs = [e for _, e in events_for_tokens(conn, sorted(members.person_of))]
        apart = failed.unresolved_ids(conn, [e.hub_id for e in evs]) - chosen
        start = (FamilyProjection.empty(fid), [e for e in evs if e.hub_id not in apart], True)
        try:
            done = project_family(conn, areas, members, start, clock)
        except Unsettled as exc:
            mine = sorted(chosen & {e.hub_id for e in evs})
            failures += [Failure(h, fid, *describe(exc.cause)) for h in mine]
            continue
        failures += done.failures
        found |= done.found
        settled.append(fid)
    withdraw_alerts(conn, settled, found)
    return failures
