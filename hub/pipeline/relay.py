"""The outbox relay: links stored events into persons and families, publishes them to Kafka
in store order keyed by family, then marks them sent.

Linking first (hub.pipeline.linking, in store order) means every event is keyed by its family id as
it stands when published, so a family's events are consumed in order from one partition. An
event naming people of several families (before a merge is seen, or after a split) is sent
to each of them.

At-least-once: a row is marked only after the broker acknowledged it (acks=all), so a crash
between the two republishes it (linking is idempotent), and consumers skip the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, wait_exponential

from hub.adapters.sql.events import OutboxRow, SqlEventStore
from hub.contract.kafka_clients import producer_tuning
from hub.domain.events import CanonicalEvent
from hub.pipeline.linking import Linker

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: SqlEventStore,
        bootstrap: str,
        embedded: bool,
        poll_seconds: float = 0.2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._linker = Linker(store.engine)
        self._bootstrap = bootstrap
        self._embedded = embedded
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._producer: AIOKafkaProducer | None = None
        self._sleep = sleep
        self.published = 0

    def wake(self) -> None:
        """Tell the relay that rows were just written (it also polls, for other writers)."""
        self._wake.set()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, linger_ms=2, **producer_tuning(self._embedded)
        )
        await producer.start()
        return producer

    async def run(self) -> None:
        try:
            while not self._stopping:
                try:
                    sent: int = await self._retrying()(self._publish_once)
                except RetryError:  # stopped while the broker was away
                    return
                if not sent:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            await self._drop_producer()

    def _retrying(self) -> AsyncRetrying:
        """While the broker cannot be reached, reconnect with a backoff from 0.1 s doubling
        to 5 s; a new batch starts again at 0.1 s."""
        return AsyncRetrying(
            retry=retry_if_exception_type((KafkaError, OSError)),
            wait=wait_exponential(multiplier=0.1, max=5.0),
            stop=lambda _state: self._stopping,
            before_sleep=lambda state: log.warning(
                "outbox relay could not publish (%s); retrying",
                state.outcome.exception(),  # type: ignore[union-attr]
            ),
            sleep=self._sleep,
        )

    async def _publish_once(self) -> int:
        if self._producer is None:
            self._producer = await self._new_producer()
        try:
            return await self._publish_batch(self._producer)
        except (KafkaError, OSError):
            await self._drop_producer()  # a new connection on the next attempt
            raise

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

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
        self._wake.set()
