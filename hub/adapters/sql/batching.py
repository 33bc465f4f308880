"""Group commit for the event store: concurrent requests share one transaction.

Each request still gets its answer only after its own event is committed; many requests
waiting at once are committed together, which is what lets one SQLite file or one
PostgreSQL connection keep up with bursts. One writer thread owns the writes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from hub.adapters.sql.events import AppendResult, SqlEventStore
from hub.domain.events import CanonicalEvent

log = logging.getLogger(__name__)


_Answer = tuple["asyncio.Future[AppendResult]", "AppendResult | BaseException"]


@dataclass
class _Pending:
    item: tuple[CanonicalEvent, str, str]
    future: asyncio.Future[AppendResult]
    loop: asyncio.AbstractEventLoop


class BatchingAppender:
    def __init__(self, store: SqlEventStore, max_batch: int = 500) -> None:
        self._store = store
        self._max = max_batch
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-store-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    async def append(self, event: CanonicalEvent, content_hash: str, topic: str) -> AppendResult:
        if self._thread is None:
            raise RuntimeError("the event-store writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AppendResult] = loop.create_future()
        self._queue.put(_Pending((event, content_hash, topic), future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            results: list[AppendResult | BaseException] = list(
                self._store.append_many([p.item for p in batch])
            )
        except Exception as exc:  # every waiter learns its event was not stored
            log.exception("event-store batch of %d failed", len(batch))
            results = [exc] * len(batch)
        else:
            self.batches += 1
        # one wake-up of each waiting loop for the whole batch, not one per request
        by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
        for p, result in zip(batch, results, strict=True):
            by_loop.setdefault(p.loop, []).append((p.future, result))
        for loop, answers in by_loop.items():
            loop.call_soon_threadsafe(_answer, answers)


def _answer(answers: list[_Answer]) -> None:
    for future, result in answers:
        if future.done():  # its request was cancelled (the client went away)
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
