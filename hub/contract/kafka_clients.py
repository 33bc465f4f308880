"""Client settings for talking to the hub's Kafka: shared by the hub and by agency systems.

Against the embedded broker (Tansu) clients need shorter sessions and fetch waits, and
producers must not use idempotence (it breaks after a broker restart); Apache Kafka needs none
of it. ``embedded`` says which broker the client talks to. See DESIGN.md.
"""

from __future__ import annotations

from typing import Any

FETCH_MAX_WAIT_MS = 50
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000


def aiokafka_consumer_tuning(embedded: bool) -> dict[str, Any]:
    if not embedded:
        return {}
    return {
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
    }


def kafka_python_consumer_tuning(embedded: bool) -> dict[str, Any]:
    return aiokafka_consumer_tuning(embedded)


def producer_tuning(embedded: bool) -> dict[str, Any]:
    # acks=all everywhere; idempotence only where the broker keeps it working across restarts
    return {"acks": "all", "enable_idempotence": not embedded}
