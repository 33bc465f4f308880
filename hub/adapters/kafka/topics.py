"""Topic names and their explicit creation (Tansu would auto-create unknown ones with 4
partitions; Apache Kafka may refuse auto-creation). Uses kafka-python's admin client."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from hub.adapters.kafka.security import KafkaSecurity
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


def ensure_topics(
    settings: Settings, timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Create the hub's topics if missing (idempotent), retrying every 0.2 s while the broker
    warms up, for at most ``timeout`` seconds (then its last error is raised)."""
    ensure_named_topics(settings, hub_topics(settings), timeout, sleep)


def ensure_named_topics(
    settings: Settings,
    wanted: dict[str, int],
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Create these topics (name: partitions) if missing, as ensure_topics does."""
    retrying = Retrying(
        retry=retry_if_exception_type(KafkaError),
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.2),
        before_sleep=lambda state: log.info(
            "broker not ready for topic creation yet (%s); retrying",
            state.outcome.exception(),  # type: ignore[union-attr]
        ),
        sleep=sleep,
        reraise=True,
    )
    retrying(_create_missing_topics, settings, wanted)


def _create_missing_topics(settings: Settings, topics: dict[str, int]) -> None:
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="hub-admin",
        **KafkaSecurity.from_settings(settings).kafka_python(),
    )
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, partitions, 1)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()
