"""The outbox relay: links stored events into persons and families, publishes them to Kafka
in store order keyed by family, then marks them sent.

Linking first (hub.pipeline.linking, in store order) means every event is keyed by its family id as
it stands when published, so a family's events are consumed in order from one partition. An
event naming people of several families (before a merge is seen, or after a split) is sent
to each of them.

At-least-once: a row is marked only after the broker acknowledged it (acks=all), so a crash
between the two republishes it (linking is idempotent), and consumers skip the repeat.

The relay recovers by itself, and never ends before it is stopped:
- every wait on the broker is bounded: a producer that has not started, or a batch not
  acknowledged, within `publish_timeout` seconds is abandoned, the producer closed (its tasks
  too) and a new one built; the batch's rows, never marked, go out again;
- on the embedded broker, a producer that lost its broker once (a connection closed or
  refused) is not trusted with another batch: aiokafka reconnects by itself to whatever
  listens at the address, and an embedded broker restarted there (empty) acknowledges records
  for topics it does not have yet, and drops them.
  The rows were marked sent and the events never reached the worker (the readiness-outage
  test's "lags never fell"). The batch is published again by a new producer, once the hub's
  topics exist (`prepare_broker`); consumers skip repeats;
- any other failure (the database gone) is logged once, and its end once, and retried.

A broker outage is logged once when it starts and once when it ends (aiokafka's own
connection errors are muted meanwhile: it would log them many times a second). When `hub up`
restarts its embedded broker (memory only, so empty), it asks the relay to refill it; the
relay marks every row for publishing again between two batches, so no row acknowledged by
the lost broker can be marked as published after the refill.

Several processes on one store (API replicas on one PostgreSQL) each run a relay; only the
holder of the relay lease (hub.adapters.sql.lease) links and publishes, the others stand by
and take over when it is given up or lapses (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from kafka.errors import KafkaError as AdminError  # kafka-python's, raised by topic creation

from hub.adapters.kafka.embedded import connect_to_every_broker, watch_connections
from hub.adapters.sql.events import OutboxRow, SqlEventStore
from hub.adapters.sql.lease import SqlLease
from hub.contract.kafka_clients import producer_tuning
from hub.domain.events import CanonicalEvent
from hub.pipeline.isolation import describe
from hub.pipeline.linking import Linker

log = logging.getLogger(__name__)
T = TypeVar("T")

# A batch the broker has not acknowledged in this long is abandoned and the producer rebuilt.
# aiokafka's own retries run for up to its request timeout (40 s) per attempt; this bounds
# the whole publish, waits on metadata included. Generous against a healthy cluster (acks=all
# answers in milliseconds), short enough that a stuck producer is replaced soon.
PUBLISH_TIMEOUT_SECONDS = 20.0

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
        publish_timeout: float = PUBLISH_TIMEOUT_SECONDS,
        producer_factory: Callable[..., AIOKafkaProducer] = AIOKafkaProducer,
        prepare_broker: Callable[[], None] | None = None,  # creates the hub's topics
        lease: SqlLease | None = None,  # with several processes on one store: see _hold_lease
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._lease = lease
        self._clock = clock
        self._renew_at: float | None = None  # monotonic; None: the lease is not held
        self._prepare_broker = prepare_broker
        self._lost_broker = asyncio.Event()  # the current producer lost its broker once
        self._publish_timeout = publish_timeout
        self._factory = producer_factory
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
        self._failing = False  # a failure other than the broker's is being retried
        self.published = 0
        self.failures = 0  # attempts to reach the broker that failed, since start
        self.producers_built = 0

    def holds_lease(self) -> bool:
        """Is this the relay that links and publishes (no lease: the only one)?"""
        return self._lease is None or self._renew_at is not None

    def state(self) -> dict[str, Any]:
        """For readiness: can the relay publish, and if not, why and since when."""
        down = self._down_since
        return {
            "lease": "none" if self._lease is None else "held" if self._renew_at else "standby",
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
        producer = self._factory(
            bootstrap_servers=self._bootstrap,
            linger_ms=2,
            **producer_tuning(self._embedded),
            **self._client_options,
        )
        lost = self._lost_broker = asyncio.Event()
        if self._embedded:  # Tansu may be a new broker behind the same address: see embedded.py
            watch_connections(producer, lost.set)
        try:
            await self._bounded(producer.start(), "connect to it")
            if self._embedded:  # connected first: a broker replaced later is seen as lost
                await self._bounded(connect_to_every_broker(producer), "connect to it")
            if self._embedded and self._prepare_broker is not None:
                await self._bounded(asyncio.to_thread(self._prepare_broker), "create the topics")
        except BaseException:
            await _stop_quietly(producer)  # a half-started producer keeps sockets and tasks
            raise
        self.producers_built += 1  # and started
        return producer

    async def _bounded(self, work: Coroutine[Any, Any, T], doing: str) -> T:
        """Await work on the broker for at most publish_timeout seconds."""
        try:
            return await asyncio.wait_for(work, self._publish_timeout)
        except TimeoutError:
            raise BrokerTimeout(
                f"could not {doing} in {self._publish_timeout:g} s; the producer is rebuilt"
            ) from None

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
                    if not await self._hold_lease():
                        await _stop_quietly(producer)  # a standby keeps no connections
                        producer = None
                        await self._standby()
                        continue
                    if producer is None:  # then ask for the lease again: building takes time
                        producer = await self._unless_stopped(self._producer())
                        continue
                    sent = await self._unless_stopped(self._publish_batch(producer))
                    backoff = 0.1
                    self._broker_back()
                    self._recovered()
                except _Stopping:
                    break
                except ProducerLostBroker:  # not an outage by itself: the next producer says
                    log.debug("outbox relay: the producer lost its broker; building a new one")
                except (KafkaError, AdminError, OSError) as exc:  # BrokerTimeout included
                    self._broker_lost(exc)
                except Exception as exc:  # the database, or a bug: never end the relay for it
                    self._failed(exc)
                else:
                    if not sent:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self._poll)
                    continue
                await _stop_quietly(producer)  # its state may belong to a broker that is gone
                producer = None
                with contextlib.suppress(TimeoutError):  # back off before trying again
                    await asyncio.wait_for(self._stopped.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
        finally:
            await _stop_quietly(producer)
            await self._release_lease()

    async def _hold_lease(self) -> bool:
        """Hold the lease before linking or publishing (True), renewing it once a third of its
        length has passed: a batch starts only while the last renewal is that recent, so a
        holder that cannot renew stops well before its lease lapses. False: another
        process's relay holds it."""
        if self._lease is None:
            return True
        if self._renew_at is not None and time.monotonic() < self._renew_at:
            return True
        asked = time.monotonic()
        expires = await asyncio.to_thread(self._lease.acquire, self._clock())
        if expires is None:
            if self._renew_at is not None:
                log.warning("outbox relay: another process took the relay lease; standing by")
            self._renew_at = None
            return False
        if self._renew_at is None:
            log.info("outbox relay: took the relay lease as %s", self._lease.holder)
        self._renew_at = asked + self._lease.length.total_seconds() / 3
        return True

    async def _standby(self) -> None:
        """Wait a third of the lease (or until stopped) before asking for it again."""
        assert self._lease is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), self._lease.length.total_seconds() / 3)

    async def _release_lease(self) -> None:
        """On an orderly stop, let another process's relay take over at once."""
        if self._lease is None or self._renew_at is None or not self._stopping:
            return
        self._renew_at = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.to_thread(self._lease.release), STOP_GRACE_SECONDS)

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

    def _failed(self, exc: Exception) -> None:
        if self._failing:
            return
        self._failing = True
        kind, message = describe(exc)  # quoted values removed: no identifier in a log line
        log.error(
            "outbox relay: publishing failed (%s: %s); retrying until it works", kind, message
        )

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("outbox relay: publishing works again")

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
        messages = [
            (r.topic, r.value.encode(), family.encode()) for r in rows for family in families[r.seq]
        ]
        lost = self._lost_broker
        if lost.is_set():
            raise ProducerLostBroker
        await self._bounded(_unless_set(_send_all(producer, messages), lost), "publish")
        if lost.is_set():  # acknowledged, perhaps by a new broker that dropped them
            raise ProducerLostBroker
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


class BrokerTimeout(TimeoutError):
    """The broker did not answer the relay in time (a TimeoutError, so an OSError)."""


async def _send_all(producer: AIOKafkaProducer, messages: list[tuple[str, bytes, bytes]]) -> None:
    """Publish (topic, value, key) messages in order; return once the broker acked them all.

    Messages are packed into one record batch per partition (the producer's batch API): a
    send per message asked the metadata for the topic's partitions each time, half the
    relay's CPU. Each key goes to the partition the producer's own partitioner would choose
    (murmur2 of the key over all partitions), so a family stays on its partition across
    this change, and a partition's messages keep their order (its batches are sent in turn).
    """
    partitions = {
        topic: sorted(await producer.partitions_for(topic))
        for topic in dict.fromkeys(t for t, _, _ in messages)
    }
    choose = DefaultPartitioner()  # a key's partition depends on all partitions only
    open_batches: dict[tuple[str, int], BatchBuilder] = {}
    futures = []
    for topic, value, key in messages:
        every = partitions[topic]
        where = (topic, choose(key, every, every))
        batch = open_batches.get(where)
        if batch is not None and batch.append(key=key, value=value, timestamp=None) is not None:
            continue
        if batch is not None:  # full: send it and start the partition's next batch
            futures.append(await producer.send_batch(batch, topic, partition=where[1]))
        batch = open_batches[where] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            raise ValueError("an outbox message is larger than a whole record batch")
    for (topic, partition), batch in open_batches.items():
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*futures)


class ProducerLostBroker(Exception):
    """The producer lost its broker (a connection closed or could not be made): what it sends
    may reach a new, empty broker (embedded only), so its batch is not marked and a new
    producer publishes it again."""


async def _unless_set(work: Coroutine[Any, Any, None], event: asyncio.Event) -> None:
    """Await work; if the event is set first, cancel it and raise ProducerLostBroker."""
    task = asyncio.ensure_future(work)
    waiting = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            raise ProducerLostBroker
        task.result()
    finally:
        waiting.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class _Stopping(Exception):
    """The relay was asked to stop while waiting on the broker."""


async def _stop_quietly(producer: AIOKafkaProducer | None) -> None:
    """Close a producer without waiting long on a broker that may be gone.

    producer.stop() first waits for its unacknowledged batches. When that is cut short, its
    batches are failed (their rows are not marked, so they go out again) and its sender and
    metadata tasks closed: left alone they would retry for ever against a broker that may
    have changed. Those are aiokafka internals, reached defensively."""
    if producer is None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), STOP_GRACE_SECONDS)
        return
    accumulator: Any = getattr(producer, "_message_accumulator", None)
    with contextlib.suppress(Exception):
        accumulator.fail_all(KafkaError("the outbox relay abandoned this producer"))
    sender = getattr(producer, "_sender", None)
    for closing in (getattr(sender, "close", None), getattr(producer.client, "close", None)):
        if closing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closing(), STOP_GRACE_SECONDS)


def _mute_kafka_client_logs(mute: bool) -> None:
    # While the relay reports an outage itself, aiokafka would add an error line for every
    # reconnection attempt (about 20 a second); its other warnings stay visible.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL if mute else logging.NOTSET)
