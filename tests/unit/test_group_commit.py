"""Group commit (hub/adapters/sql/batching.py): requests that arrive while a batch is being
committed are committed together in the next one, and each request hears of its own event
only once the batch holding it has committed, or failed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import cast

import pytest

from hub.adapters.sql.batching import BatchingAppender
from hub.adapters.sql.events import AppendResult, SqlEventStore
from hub.domain.events import CanonicalEvent
from tests.unit.canonical import canonical_event

TOPIC = "test.hub.events.v1"
WAIT = 10.0  # seconds: a deadline for a condition, never a pause


class GatedStore:
    """Holds the first batch until released, so later requests queue behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def append_many(self, items: Sequence[tuple[CanonicalEvent, str, str]]) -> list[AppendResult]:
        self.batches.append([e.source_id for e, _, _ in items])
        self.entered.set()
        assert self.release.wait(WAIT)
        if self.fail:
            raise RuntimeError("TEST: the database went away")
        return [AppendResult(e.hub_id, True, True) for e, _, _ in items]


async def _send_while_first_batch_commits(
    store: GatedStore, appender: BatchingAppender
) -> list[asyncio.Task[AppendResult]]:
    first = canonical_event("TEST-EVENT-0")
    tasks = [asyncio.create_task(appender.append(first, "h0", TOPIC))]
    assert await asyncio.to_thread(store.entered.wait, WAIT)
    later = [canonical_event(f"TEST-EVENT-{i}") for i in range(1, 6)]
    tasks += [asyncio.create_task(appender.append(e, f"h{i}", TOPIC)) for i, e in enumerate(later)]
    await asyncio.sleep(0)  # one turn of the loop: the five tasks queue their events
    assert not any(t.done() for t in tasks)  # nothing is answered before its commit
    return tasks


def test_requests_waiting_behind_a_commit_are_committed_together_and_each_answered() -> None:
    store = GatedStore()
    appender = BatchingAppender(cast(SqlEventStore, store))
    appender.start()

    async def scenario() -> list[AppendResult]:
        tasks = await _send_while_first_batch_commits(store, appender)
        store.release.set()
        return await asyncio.wait_for(asyncio.gather(*tasks), WAIT)

    try:
        results = asyncio.run(scenario())
    finally:
        appender.stop()
    assert store.batches == [["TEST-EVENT-0"], [f"TEST-EVENT-{i}" for i in range(1, 6)]]
    assert [r.hub_id for r in results] == [
        canonical_event(f"TEST-EVENT-{i}").hub_id for i in range(6)
    ]
    assert appender.batches == 2


def test_when_a_batch_fails_every_request_in_it_hears_so() -> None:
    store = GatedStore(fail=True)
    appender = BatchingAppender(cast(SqlEventStore, store))
    appender.start()

    async def scenario() -> list[AppendResult | BaseException]:
        tasks = await _send_while_first_batch_commits(store, appender)
        store.release.set()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), WAIT)

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("hub.adapters.sql.batching.log.exception", lambda *_a, **_k: None)
            outcomes = asyncio.run(scenario())
    finally:
        appender.stop()
    assert len(outcomes) == 6
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert appender.batches == 0
