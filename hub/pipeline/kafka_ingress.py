"""Kafka-direct ingress, the faust edge: read ``hub.ingress.raw`` in batches, hand each batch
to ``KafkaIngress`` (hub/services/kafka_ingress.py), put every refusal on
``hub.ingress.rejected`` with the original value, key and headers plus ``hub_reject_*``
headers. Offsets are acknowledged only after the batch is stored and its rejections are
acknowledged by the broker, so a crash redelivers, and redelivery is harmless (the store
dedupes by agency and event id). The API's outbox relay publishes what was stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from hub.adapters.kafka import topics
from hub.adapters.kafka.binding import RawRecord
from hub.adapters.metrics import count_event
from hub.services.kafka_ingress import (
    INFRASTRUCTURE_ERRORS,
    KafkaIngress,
    Outcome,
    rejection_headers,
)
from hub.settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.02


def record_of(message: Any) -> RawRecord:
    headers = message.headers or ()
    if isinstance(headers, Mapping):
        headers = headers.items()
    value = message.value
    return RawRecord(
        value=bytes(value) if value is not None else None,
        headers=tuple((str(n), None if v is None else bytes(v)) for n, v in headers),
        key=message.key,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )


Sleep = Callable[[float], Awaitable[None]]


def _until_it_works(
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    warn: Callable[[BaseException], None],
    sleep: Sleep,
) -> AsyncRetrying:
    """Try again for as long as it takes (the partition waits: nothing is refused or dropped
    because of the hub's own trouble), backing off 0.2 s doubling to 10 s."""
    return AsyncRetrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_exponential(multiplier=0.2, max=10.0),
        before_sleep=lambda state: warn(state.outcome.exception()),  # type: ignore[arg-type,union-attr]
        sleep=sleep,
    )


async def handle_with_retry(
    handler: KafkaIngress, records: list[RawRecord], sleep: Sleep = asyncio.sleep
) -> list[Outcome]:
    """The batch's outcomes; while the database is down, wait and try again (the partition
    waits rather than anything being refused or dropped)."""

    def warn(exc: BaseException) -> None:
        # the type only: a database error's text may quote the batch's values
        log.warning("ingress batch could not be stored (%s); retrying", type(exc).__name__)

    async def attempt() -> list[Outcome]:
        return await asyncio.to_thread(handler.handle_batch, records, datetime.now(UTC))

    result: list[Outcome] = await _until_it_works(INFRASTRUCTURE_ERRORS, warn, sleep)(attempt)
    return result


async def publish_with_retry(
    rejected: Any, refused: list[Outcome], sleep: Sleep = asyncio.sleep
) -> None:
    """Put each refusal on the rejected topic and wait for the broker's acknowledgement;
    while the broker refuses, wait and send them all again (a refusal may then appear twice,
    never not at all)."""

    def warn(exc: BaseException) -> None:
        log.warning("could not publish %d rejections (%s); retrying", len(refused), exc)

    async def attempt() -> None:
        now = datetime.now(UTC)
        sent = [
            await rejected.send(
                key=o.record.key,
                value=o.record.value,
                headers=rejection_headers(o, now),
                force=True,  # now, not attached to the source event's ack
            )
            for o in refused
        ]
        await asyncio.gather(*sent)

    # the producer's errors vary by client; all mean "try again"
    await _until_it_works(Exception, warn, sleep)(attempt)


def add_ingress_agent(app: Any, settings: Settings, handler: KafkaIngress) -> Any:
    """Register the Kafka-direct ingress agent on the worker's faust app."""
    raw = app.topic(
        settings.topic(topics.INGRESS_RAW), value_serializer="raw", key_serializer="raw"
    )
    rejected = app.topic(
        settings.topic(topics.INGRESS_REJECTED), value_serializer="raw", key_serializer="raw"
    )

    async def ingest(stream: Any) -> None:
        # noack_take: offsets are acknowledged by hand, only once the batch is safe
        async for events in stream.noack_take(BATCH_SIZE, within=BATCH_WITHIN_SECONDS):
            outcomes = await handle_with_retry(handler, [record_of(e.message) for e in events])
            refused = [o for o in outcomes if o.status == "rejected"]
            await publish_with_retry(rejected, refused)
            for event in events:
                await stream.ack(event)
            counts = Counter(o.reason or o.status for o in outcomes)
            for o in outcomes:
                count_event("kafka", o.status, o.reason)
            log.log(
                logging.INFO if refused else logging.DEBUG,
                "kafka ingress batch of %d: %s",
                len(outcomes),
                dict(sorted(counts.items())),
            )

    return app.agent(raw, name=settings.topic("hub-kafka-ingress"))(ingest)
