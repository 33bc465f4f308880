"""The hub clock: records a hub.clock.ticked event when a time rule's deadline has passed.

Time rules (first contact overdue, next school day) never read the wall clock. The API
process checks, every HUB_CLOCK_CHECK_SECONDS, whether any family's next deadline lies
before now and after the hub clock; if so it stores a tick at now, which the relay
publishes like any event. The projector moves the clock forward and evaluates the families
whose deadline passed; a replay meets the same ticks in the same places. With several API
processes on one store, only the one holding the relay lease checks, so one tick is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.schema import clock, family_projections
from hub.domain.internal import clock_tick

log = logging.getLogger(__name__)


def tick_if_due(store: SqlEventStore, topic: str, now: datetime) -> datetime | None:
    """Store a tick at ``now`` when a deadline passed since the clock last moved."""
    with store.engine.connect() as conn:
        at = conn.execute(select(clock.c.at).where(clock.c.name == "hub")).scalar()
        query = select(func.min(family_projections.c.next_due))
        if at is not None:
            query = query.where(family_projections.c.next_due > at)
        due = conn.execute(query).scalar()
    if due is None or as_utc(due) > now:
        return None
    event = clock_tick(now)
    store.append(event, hashlib.sha256(event.to_json().encode()).hexdigest(), topic)
    return now


class Ticker:
    def __init__(
        self,
        engine: Engine,
        topic: str,
        every: float,
        wake: Callable[[], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self._store = SqlEventStore(engine)
        self._active = active  # with several API processes: only the relay lease's holder ticks
        self._topic = topic
        self._every = every
        self._wake = wake
        self._now = now
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._every)
            if self._stop.is_set():
                return
            if not self._active():
                continue
            try:
                if await asyncio.to_thread(tick_if_due, self._store, self._topic, self._now()):
                    self._wake()
            except Exception:  # the clock must keep going; the next check retries
                log.exception("clock check failed; retrying in %.0f s", self._every)

    def stop(self) -> None:
        self._stop.set()
