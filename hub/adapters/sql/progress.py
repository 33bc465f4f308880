"""How far behind the pipeline is, read from SQL: the relay's backlog (outbox rows not yet
published), the worker's backlog (published events the projector has not applied) and the
workers' heartbeats. /readyz turns these into a yes or no."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, exists, func, insert, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import (
    events,
    failed_events,
    outbox,
    processed_events,
    worker_heartbeats,
)

# The projector's name in the tracking table (processed_events.consumer).
PROJECTOR = "family-projector"

# The worker's backlog is looked for among the newest published events only, so the check
# stays cheap on a store of millions; a worker further behind than this has stopped beating
# or shows a backlog as old as the window anyway.
WORKER_LAG_WINDOW = 10_000
# Rows of workers that have not beaten for this long are dropped (restarts add new ones).
HEARTBEAT_KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: datetime | None  # when the oldest waiting event was recorded or published


def relay_backlog(engine: Engine) -> Backlog:
    """Outbox rows not yet published, and when the oldest of them was recorded."""
    with engine.connect() as conn:
        waiting, oldest = conn.execute(
            select(func.count(), func.min(events.c.recorded_at))
            .select_from(outbox.join(events, events.c.seq == outbox.c.event_seq))
            .where(outbox.c.published_at.is_(None))
        ).one()
    return Backlog(int(waiting), as_utc(oldest) if oldest is not None else None)


def worker_backlog(engine: Engine, consumer: str, window: int = WORKER_LAG_WINDOW) -> Backlog:
    """Among the newest `window` published events, those the consumer has not applied, and
    when the oldest of them was published."""
    recent = (
        select(outbox.c.event_seq, outbox.c.published_at)
        .where(outbox.c.published_at.is_not(None))
        .order_by(outbox.c.seq.desc())
        .limit(window)
        .subquery()
    )
    applied = exists().where(
        processed_events.c.consumer == consumer, processed_events.c.hub_id == events.c.hub_id
    )
    # an event set apart as poison (`hub failed list`) waits for an operator, not the worker
    set_apart = exists().where(failed_events.c.hub_id == events.c.hub_id)
    with engine.connect() as conn:
        waiting, oldest = conn.execute(
            select(func.count(), func.min(recent.c.published_at))
            .select_from(recent.join(events, events.c.seq == recent.c.event_seq))
            .where(~applied, ~set_apart)
        ).one()
    return Backlog(int(waiting), as_utc(oldest) if oldest is not None else None)


def newest_heartbeat(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        beat = conn.execute(select(func.max(worker_heartbeats.c.beat_at))).scalar()
    return as_utc(beat) if beat is not None else None


def beat(engine: Engine, worker_id: str, now: datetime) -> None:
    """Record that this worker is alive; drop rows of workers long gone."""
    with engine.begin() as conn:
        gone = worker_heartbeats.c.beat_at < now - HEARTBEAT_KEEP
        conn.execute(delete(worker_heartbeats).where(gone))
        done = conn.execute(
            update(worker_heartbeats)
            .where(worker_heartbeats.c.worker_id == worker_id)
            .values(beat_at=now)
        ).rowcount
        if not done:
            conn.execute(insert(worker_heartbeats).values(worker_id=worker_id, beat_at=now))
