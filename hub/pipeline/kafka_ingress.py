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
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.adapters.kafka import topics
from hub.adapters.kafka.binding import RawRecord
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


async def handle_with_retry(handler: KafkaIngress, records: list[RawRecord]) -> list[Outcome]:
    """The batch's outcomes; while the database is down, wait and try again (the partition
    waits rather than anything being refused or dropped)."""
    backoff = 0.2
    while True:
        try:
            return await asyncio.to_thread(handler.handle_batch, records, datetime.now(UTC))
        except INFRASTRUCTURE_ERRORS as exc:
            log.warning("ingress batch could not be stored (%s); retrying", type(exc).__name__)
            await asyncio.sleep(backoff)  # back off while the database recovers
            backoff = min(backoff * 2, 10.0)


async def publish_with_retry(rejected: Any, refused: list[Outcome]) -> None:
    """Put each refusal on the rejected topic and wait for the broker's acknowledgement;
    while the broker refuses, wait and send them all again (a refusal may then appear twice,
    never not at all)."""
    backoff = 0.2
    while True:
        now = datetime.now(UTC)
        try:
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
            return
        except Exception as exc:  # the producer's errors vary by client; all mean "try again"
            log.warning("could not publish %d rejections (%s); retrying", len(refused), exc)
            await asyncio.sleep(backoff)  # back off while the broker recovers
            backoff = min(backoff * 2, 10.0)


def add_ingress_agent(app: Any, settings: Settings, handler: KafkaIngress) -> Any:
    """Register the Kafka-direct ingress agent on the worker's faust app.

    The handler comes from the entry point's composition root (the same keys, cipher and
    agency types as the API): the pipeline never builds services itself.
    """
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
            log.log(
                logging.INFO if refused else logging.DEBUG,
                "kafka ingress batch of %d: %s",
                len(outcomes),
                dict(sorted(counts.items())),
            )

    return app.agent(raw, name=settings.topic("hub-kafka-ingress"))(ingest)
