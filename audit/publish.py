"""Publishing signed checkpoints to Kafka (`hub.audit.checkpoints`), so that parties outside
the hub hold them: once published, the hub cannot quietly rewrite what they cover.

KafkaCheckpointPublisher sends from a thread of its own: an audit append hands a checkpoint
over and returns at once, however slow or absent the broker is. Messages are keyed by tree
size, so a republished checkpoint (`hub audit publish-checkpoints`, e.g. after the embedded
broker restarted empty) is the same message again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any

from audit.checkpoint import Checkpoint

log = logging.getLogger(__name__)

AUDIT_CHECKPOINTS = "hub.audit.checkpoints"


def checkpoint_message(cp: Checkpoint) -> tuple[bytes, bytes]:
    """(key, value) of the Kafka message for a checkpoint."""
    value = json.dumps(cp.to_dict(), sort_keys=True, separators=(",", ":"))
    return str(cp.tree_size).encode(), value.encode()


class InMemoryPublisher:
    """Keeps what it is given: for tests, and for commands that only export."""

    def __init__(self) -> None:
        self.published: list[Checkpoint] = []

    def publish(self, checkpoint: Checkpoint) -> None:
        self.published.append(checkpoint)


class KafkaCheckpointPublisher:
    """tuning: extra KafkaProducer arguments (acks, idempotence) for the broker in use;
    security: connection arguments (TLS, SASL) for the admin client and the producer alike.
    The hub passes its own (hub.contract.kafka_clients, hub.adapters.kafka.security), so this
    package needs nothing of hub."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        tuning: Mapping[str, Any],
        security: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._tuning = dict(tuning)
        self._security = dict(security or {})
        self._queue: queue.SimpleQueue[Checkpoint | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, checkpoint: Checkpoint) -> None:
        """Queue the checkpoint for sending; never blocks on the broker."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="audit-checkpoint-publisher", daemon=True
                )
                self._thread.start()
        self._queue.put(checkpoint)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (waiting up to timeout seconds), then stop."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def send_all(self, checkpoints: list[Checkpoint]) -> None:
        """Send now and wait for the broker's acknowledgement; raise if it does not come."""
        producer = self._connect()
        try:
            for cp in checkpoints:
                self._send(producer, cp)
        finally:
            producer.close(timeout=5)

    def _send(self, producer: Any, cp: Checkpoint) -> None:
        key, value = checkpoint_message(cp)
        producer.send(self._topic, key=key, value=value).get(timeout=10)

    def _run(self) -> None:
        producer: Any = None
        try:
            while (cp := self._queue.get()) is not None:
                try:
                    producer = producer or self._connect()
                    self._send(producer, cp)
                except Exception as exc:  # logged; the checkpoint stays in the database
                    log.warning(
                        "checkpoint at tree size %d not published to %s (%s); "
                        "`hub audit publish-checkpoints` sends it again",
                        cp.tree_size,
                        self._topic,
                        exc,
                    )
                    if producer is not None:
                        with contextlib.suppress(Exception):
                            producer.close(timeout=1)
                    producer = None
        finally:
            if producer is not None:
                producer.close(timeout=5)

    def _connect(self) -> Any:
        from kafka import KafkaProducer
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import TopicAlreadyExistsError

        # One partition keeps checkpoints in order; created explicitly because Apache Kafka
        # may refuse auto-creation and Tansu would give it four partitions.
        admin = KafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id="hub-audit", **self._security
        )
        try:
            if self._topic not in set(admin.list_topics()):
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([NewTopic(self._topic, 1, 1)])
        finally:
            admin.close()
        return KafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id="hub-audit",
            **self._tuning,
            **self._security,
        )
