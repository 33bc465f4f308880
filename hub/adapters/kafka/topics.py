"""Topic names and their explicit creation (Tansu would auto-create unknown ones with 4
partitions; Apache Kafka may refuse auto-creation). Uses kafka-python's admin client."""

from __future__ import annotations

import contextlib
import logging
import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.settings import Settings

log = logging.getLogger(__name__)

EVENTS = "hub.events.v1"
ALERTS = "hub.alerts.v1"
EVENTS_DEADLETTER = "hub.events.deadletter.v1"
# Kafka-direct ingress (docs/kafka-ingress.md): what agencies write, and what the hub refused
# with the original bytes. Both carry what agencies sent, identifiers included.
INGRESS_RAW = "hub.ingress.raw"
INGRESS_REJECTED = "hub.ingress.rejected"


def hub_topics(settings: Settings) -> dict[str, int]:
    return {
        settings.topic(EVENTS): settings.topic_partitions,
        settings.topic(ALERTS): 1,
        settings.topic(EVENTS_DEADLETTER): 1,
        settings.topic(INGRESS_RAW): settings.topic_partitions,
        settings.topic(INGRESS_REJECTED): 1,
    }


def ensure_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Create the hub's topics if missing (idempotent), retrying while the broker warms up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap, client_id="hub-admin"
            )
            try:
                existing = set(admin.list_topics())
                wanted = [
                    NewTopic(name, partitions, 1)
                    for name, partitions in hub_topics(settings).items()
                    if name not in existing
                ]
                if wanted:
                    with contextlib.suppress(TopicAlreadyExistsError):
                        admin.create_topics(wanted)
            finally:
                admin.close()
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise
            log.info("broker not ready for topic creation yet (%s); retrying", exc)
            time.sleep(0.2)  # retry with a deadline while the broker starts
