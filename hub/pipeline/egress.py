"""Kafka egress of the agencies' feeds: each agency named in HUB_EGRESS_AGENCIES gets its feed
(hub/services/feed.py, the same pages as GET /v1/feed, through the same policy point and
audited the same way, action ``PUBLISH hub.out.<agency>.v1``) on its own topic, as
CloudEvents in binary mode: the item as JSON in the value, ``ce_*`` headers, keyed by family
id. Tokens only, as everywhere on Kafka.

At least once: a page is published (acks=all), then its cursor saved (feed_egress); a crash
in between publishes the page again, which an agency ignores by (item_id, version). The
topic is created at start (one partition: an agency reads its feed in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from hub.adapters.kafka.security import KafkaSecurity
from hub.adapters.kafka.topics import ensure_named_topics
from hub.adapters.sql.feed import egress_cursor, save_egress_cursor
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract.feed import FEED_EVENT_TYPE, FeedItem, egress_topic
from hub.contract.kafka_clients import producer_tuning
from hub.domain.events import HUB_NAMESPACE
from hub.services.context import HubContext
from hub.services.feed import feed_page

log = logging.getLogger(__name__)

SOURCE = "urn:hub:feed"


def cloud_event(item: FeedItem) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of an item in CloudEvents' Kafka binary mode."""
    ce_id = str(uuid.uuid5(HUB_NAMESPACE, f"feed\0{item.item_id}\0{item.version}"))
    headers = [
        ("ce_specversion", b"1.0"), ("ce_id", ce_id.encode()), ("ce_source", SOURCE.encode()),
        ("ce_type", FEED_EVENT_TYPE.format(kind=item.kind).encode()),
        ("ce_subject", item.item_id.encode()), ("content-type", b"application/json"),
    ]  # fmt: skip
    if item.time is not None:
        headers.append(("ce_time", item.time.isoformat().encode()))
    value = json.dumps(item.model_dump(mode="json"), separators=(",", ":")).encode()
    return item.family_id.encode(), value, headers


class FeedEgress:
    def __init__(
        self,
        services: HubContext,
        agencies: list[str],
        every: float,
        producer_factory: Callable[..., Any] = KafkaProducer,
    ) -> None:
        self._services = services
        self._agencies = agencies
        self._every = every
        self._factory = producer_factory
        self._producer: Any = None
        self._principals = SqlPrincipalStore(services.engine)
        self._stop = asyncio.Event()

    def _topic(self, agency_id: str) -> str:
        return self._services.settings.topic(egress_topic(agency_id))

    def _connect(self) -> Any:
        s = self._services.settings
        ensure_named_topics(s, {self._topic(a): 1 for a in self._agencies})
        return self._factory(
            bootstrap_servers=s.kafka_bootstrap, client_id="hub-feed-egress",
            **producer_tuning(s.embedded_broker), **KafkaSecurity.from_settings(s).kafka_python(),
        )  # fmt: skip

    def publish_once(self) -> int:
        """Publish every agency's pending pages; the number of items published."""
        if self._producer is None:
            self._producer = self._connect()
        sent = 0
        for agency_id in self._agencies:
            sent += self._publish_agency(agency_id)
        return sent

    def _publish_agency(self, agency_id: str) -> int:
        principal = self._principals.agency_system(agency_id)
        if principal is None:
            return 0  # not registered (yet): nothing to publish to it
        topic, engine, sent = self._topic(agency_id), self._services.engine, 0
        while True:
            page = feed_page(self._services, principal, egress_cursor(engine, agency_id), 500,
                             action=f"PUBLISH {topic}")  # fmt: skip
            futures = []
            for item in page.items:
                key, value, headers = cloud_event(item)
                futures.append(self._producer.send(topic, value=value, key=key, headers=headers))
            for f in futures:
                f.get(timeout=30)
            save_egress_cursor(engine, agency_id, page.cursor)
            sent += len(page.items)
            if not page.more:
                return sent

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.publish_once)
            except (KafkaError, OSError) as exc:  # the broker is away: try again later
                log.warning("feed egress could not publish (%s); retrying", type(exc).__name__)
                self._close()
            except Exception:  # keep going: the next round retries from the saved cursor
                log.exception("feed egress failed; retrying in %.0f s", self._every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._every)
        self._close()

    def _close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                self._producer.close(timeout=2)
            self._producer = None

    def stop(self) -> None:
        self._stop.set()
