"""A console inbox: prints alerts from the hub's alert topic as they are raised.

Shows rule, subject token and reason only: no personal identifier reaches the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from hub.contract.kafka_clients import aiokafka_consumer_tuning


def format_alert(alert: dict[str, object]) -> str:
    victim = str(alert["victim_token"]) or "(perpetrator)"
    kind = {"updated": "ALERT UPDATED", "withdrawn": "ALERT WITHDRAWN"}.get(
        str(alert.get("change")), "ALERT"
    )
    return (
        f"{kind} {alert['rule']}  victim {victim[:12]}…  {alert['reason']}  "
        f"→ {alert['recommended_action']}"
    )


async def print_alerts(
    bootstrap: str, topic: str, embedded: bool, emit: Callable[[str], None] = print
) -> None:
    """Print every alert on the topic, until cancelled."""
    tuning = aiokafka_consumer_tuning(embedded)
    tuning.pop("session_timeout_ms", None)
    tuning.pop("heartbeat_interval_ms", None)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", **tuning
    )
    await consumer.start()
    try:
        async for msg in consumer:
            emit(format_alert(json.loads(msg.value)))
    finally:
        await consumer.stop()
