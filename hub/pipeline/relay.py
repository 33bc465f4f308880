"""The outbox relay: links stored events into persons and families, publishes them to Kafka
in store order keyed by family, then marks them sent.

Linking first (hub.pipeline.linking, in store order) means every event is keyed by its family id as
it stands when published, so a family's events are consumed in order from one partition. An
event naming people of several families (before a merge is seen, or after a split) is sent
to each of them.

At-least-once: a row is marked only after the broker acknowledged it (acks=all), so a crash
between the two republishes it (linking is idempotent), and consumers skip the repeat.

A broker outage is logged once when it starts and once when it ends (aiokafka's own
connection errors are muted meanwhile: it would log them many times a second). When `hub up`
restarts its embedded broker (memory only, so empty), it asks the relay to refill it; the
relay marks every row for publishing again between two batches, so no row acknowledged by
the lost broker can be marked as published after the refill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.adapters.sql.events import OutboxRow, SqlEventStore
from hub.contract.kafka_clients import producer_tuning
from hub.domain.events import CanonicalEvent
from hub.pipeline.linking import Linker

log = logging.getLogger(__name__)
T = TypeVar("T")

# On stop, a batch being published gets this long to be acknowledged; then it is abandoned
# (its rows stay unsent and go out on the next start), so a lost broker cannot hold shutdown.
STOP_GRACE_SECONDS = 1.0


class OutboxRelay:
    def __init__(
        self,
        store: SqlEventStore,
        bootstrap: str,
        embedded: bool,
        poll_seconds: float = 0.2,
        client_options: dict[str, Any] | None = None,  # TLS/SASL (hub.adapters.kafka.security)
    ) -> None:
        self._store = store
        self._client_options = client_options or {}
        self._linker = Linker(store.engine)
        self._bootstrap = bootstrap
        self._embedded = embedded
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refill_requested = False
        self._down_since: float | None = None  # monotonic time the broker was lost
        self._error = ""
        self.published = 0
        self.failures = 0  # attempts to reach the broker that failed, since start

    def state(self) -> dict[str, Any]:
        """For readiness: can the relay publish, and if not, why and since when."""
        down = self._down_since
        return {
            "broker_ok": down is None,
            "error": self._error if down is not None else "",
            "down_seconds": round(time.monotonic() - down, 1) if down is not None else 0.0,
        }

    def request_refill(self) -> None:
        """The broker was replaced by an empty one: publish every stored event again.
        Safe to call from any thread."""
        self._refill_requested = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def wake(self) -> None:
        """Tell the relay that rows were just written (it also polls, for other writers)."""
        self._wake.set()

    async def _producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            linger_ms=2,
            **producer_tuning(self._embedded),
            **self._client_options,
        )
        try:
            await producer.start()
        except BaseException:
            await _stop_quietly(producer)  # a half-started producer keeps sockets and tasks
            raise
        return producer

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        producer: AIOKafkaProducer | None = None
        backoff = 0.1
        try:
            while not self._stopping:
                try:
                    if self._refill_requested:
                        await self._refill(producer)
                        producer = None
                    if producer is None:
                        producer = await self._unless_stopped(self._producer())
                    sent = await self._unless_stopped(self._publish_batch(producer))
                    backoff = 0.1
                    self._broker_back()
                except (KafkaError, OSError) as exc:
                    self._broker_lost(exc)
                    await _stop_quietly(producer)
                    producer = None
                    with contextlib.suppress(TimeoutError):  # back off before reconnecting
                        await asyncio.wait_for(self._stopped.wait(), backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                except _Stopping:
                    break
                if not sent:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            await _stop_quietly(producer)

    async def _unless_stopped(self, work: Coroutine[Any, Any, T]) -> T:
        """Await work; once stop is asked, give it STOP_GRACE_SECONDS more, then cancel it."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                raise _Stopping
            return task.result()
        finally:
            stopping.cancel()

    async def _refill(self, producer: AIOKafkaProducer | None) -> None:
        from hub.pipeline.replay import refill

        self._refill_requested = False
        await _stop_quietly(producer)  # its connections and metadata belong to the lost broker
        queued = await asyncio.to_thread(refill, self._store.engine)
        log.warning("outbox relay: refilling the new broker with %d stored events", queued)

    def _broker_lost(self, exc: BaseException) -> None:
        self.failures += 1
        self._error = f"{type(exc).__name__}: {exc}"
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        _mute_kafka_client_logs(True)
        log.error(
            "outbox relay: cannot reach the broker at %s (%s); accepted events wait in the "
            "outbox and are published when it is back",
            self._bootstrap,
            self._error,
        )

    def _broker_back(self) -> None:
        if self._down_since is None:
            return
        down = time.monotonic() - self._down_since
        self._down_since, self._error = None, ""
        _mute_kafka_client_logs(False)
        log.warning("outbox relay: the broker at %s is back after %.1f s", self._bootstrap, down)

    async def _publish_batch(self, producer: AIOKafkaProducer) -> int:
        rows = await asyncio.to_thread(self._store.pending_outbox, 1000)
        if not rows:
            return 0
        families = await asyncio.to_thread(self._link, rows)
        futures = [
            await producer.send(r.topic, r.value.encode(), key=family.encode())
            for r in rows
            for family in families[r.seq]
        ]
        await asyncio.gather(*futures)
        await asyncio.to_thread(self._store.mark_published, [r.seq for r in rows])
        self.published += len(rows)
        return len(rows)

    def _link(self, rows: list[OutboxRow]) -> dict[int, list[str]]:
        """Each outbox row's families (keys), after linking its event."""
        evs = [(r.event_seq, CanonicalEvent.from_json(r.value)) for r in rows]
        families = self._linker.link(evs)
        return {r.seq: families[e.hub_id] for r, (_, e) in zip(rows, evs, strict=True)}

    def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._wake.set()


class _Stopping(Exception):
    """The relay was asked to stop while waiting on the broker."""


async def _stop_quietly(producer: AIOKafkaProducer | None) -> None:
    """Close a producer without waiting long on a broker that may be gone."""
    if producer is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), STOP_GRACE_SECONDS)


def _mute_kafka_client_logs(mute: bool) -> None:
    # While the relay reports an outage itself, aiokafka would add an error line for every
    # reconnection attempt (about 20 a second); its other warnings stay visible.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL if mute else logging.NOTSET)
