"""The outbox relay: publishes stored events to Kafka in store order, then marks them sent.

At-least-once: a row is marked only after the broker acknowledged it (acks=all), so a crash
between the two republishes it, and consumers skip the repeat by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.kafka.embedded import producer_tuning
from hub.store.events import SqlEventStore

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self, store: SqlEventStore, bootstrap: str, embedded: bool, poll_seconds: float = 0.2
    ) -> None:
        self._store = store
        self._bootstrap = bootstrap
        self._embedded = embedded
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0

    def wake(self) -> None:
        """Tell the relay that rows were just written (it also polls, for other writers)."""
        self._wake.set()

    async def _producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, linger_ms=2, **producer_tuning(self._embedded)
        )
        await producer.start()
        return producer

    async def run(self) -> None:
        producer: AIOKafkaProducer | None = None
        backoff = 0.1
        try:
            while not self._stopping:
                try:
                    if producer is None:
                        producer = await self._producer()
                    sent = await self._publish_batch(producer)
                    backoff = 0.1
                except (KafkaError, OSError) as exc:
                    log.warning("outbox relay could not publish (%s); retrying", exc)
                    if producer is not None:
                        with contextlib.suppress(Exception):
                            await producer.stop()
                    producer = None
                    await asyncio.sleep(backoff)  # back off before reconnecting
                    backoff = min(backoff * 2, 5.0)
                    continue
                if not sent:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            if producer is not None:
                await producer.stop()

    async def _publish_batch(self, producer: AIOKafkaProducer) -> int:
        rows = await asyncio.to_thread(self._store.pending_outbox, 1000)
        if not rows:
            return 0
        futures = [await producer.send(r.topic, r.value.encode(), key=r.key.encode()) for r in rows]
        await asyncio.gather(*futures)
        await asyncio.to_thread(self._store.mark_published, [r.seq for r in rows])
        self.published += len(rows)
        return len(rows)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
