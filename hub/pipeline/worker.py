"""The stream processor: a faust app that folds events into family projections and keeps
alerts current.

The agent is a thin edge: decode a batch, hand it to the FamilyProjector (pure fold + rules
in one SQL transaction), announce the alerts raised or changed on hub.alerts.v1, and put the
events it had to set apart (hub.pipeline.isolation) on the dead-letter topic.

The worker writes a heartbeat row every HEARTBEAT_SECONDS (/readyz reads it). Its shutdown is
bounded: faust waits forever on a consumer thread that failed while the broker was gone, so
STOP_GRACE_SECONDS after SIGTERM/SIGINT the process exits anyway. That is safe: every effect
is committed in one SQL transaction with its tracking rows, and redelivery is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust

from hub.adapters.kafka import topics
from hub.adapters.kafka.embedded import faust_tuning, patch_faust_fetch_wait
from hub.adapters.kafka.security import KafkaSecurity
from hub.adapters.metrics import ALERT_LATENCY, ALERTS_RAISED, serve_metrics
from hub.adapters.rules_file import load_area_book
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.failed import Failure
from hub.adapters.sql.progress import beat
from hub.domain.events import CanonicalEvent
from hub.pipeline.kafka_ingress import add_ingress_agent
from hub.pipeline.projector import FamilyProjector
from hub.services.kafka_ingress import KafkaIngress
from hub.settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.02
HEARTBEAT_SECONDS = 2.0
STOP_GRACE_SECONDS = 3.0


def create_app(settings: Settings, ingress: KafkaIngress) -> faust.App:
    """The worker's faust app; ingress (built by hub.bootstrap) handles Kafka-direct ingress."""
    if settings.embedded_broker:
        patch_faust_fetch_wait()
    app = faust.App(
        settings.topic("hub-projector"),
        broker=[f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",")],
        store="memory://",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        producer_acks=-1,
        **faust_tuning(settings.embedded_broker),
        **KafkaSecurity.from_settings(settings).faust(),
    )
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    projector = FamilyProjector(engine, load_area_book(settings))
    events_topic = app.topic(
        settings.topic(topics.EVENTS), value_serializer="raw", key_serializer="raw"
    )
    alerts_topic = app.topic(
        settings.topic(topics.ALERTS), value_serializer="raw", key_serializer="raw"
    )
    deadletter = app.topic(
        settings.topic(topics.EVENTS_DEADLETTER), value_serializer="raw", key_serializer="raw"
    )

    @app.agent(events_topic)
    async def project(stream: Any) -> None:
        async for batch in stream.take(BATCH_SIZE, within=BATCH_WITHIN_SECONDS):
            decoded: list[CanonicalEvent] = []
            for raw in batch:
                try:
                    decoded.append(CanonicalEvent.from_json(raw))
                except (ValueError, KeyError, TypeError) as exc:
                    # never expected (only the relay writes here), never dropped silently
                    log.error("undecodable event on %s: %s", events_topic.get_topic_name(), exc)
                    await deadletter.send(value=raw, headers={"reason": str(exc).encode()})
            outcome = await asyncio.to_thread(projector.process, decoded)
            count_alerts(outcome.alerts, decoded, datetime.now(UTC))
            for alert in outcome.alerts:
                await alerts_topic.send(
                    key=alert["family_id"].encode(), value=json.dumps(alert, default=str).encode()
                )
            for failure in outcome.failures:
                # set apart (failed_events) and applied no further; never its content here
                log.error(
                    "event %s could not be applied to family %s (%s); set apart, see `hub "
                    "failed list`", failure.hub_id, failure.family_id, failure.error_type,
                )  # fmt: skip
                await deadletter.send(key=failure.hub_id.encode(), value=dead_letter(failure))

    worker_id = f"{socket.gethostname()}:{os.getpid()}"

    @app.timer(interval=HEARTBEAT_SECONDS)  # type: ignore[untyped-decorator]
    async def heartbeat() -> None:
        await asyncio.to_thread(beat, engine, worker_id, datetime.now(UTC))

    add_ingress_agent(app, settings, ingress)  # Kafka-direct ingress: hub.ingress.raw → event store
    return app


class BoundedWorker(faust.Worker):
    """A faust worker whose stop, once asked for, takes at most STOP_GRACE_SECONDS."""

    def _schedule_shutdown(self, sig: signal.Signals) -> None:  # mode's signal hook
        super()._schedule_shutdown(sig)
        timer = threading.Timer(STOP_GRACE_SECONDS, _exit_now, args=(sig,))
        timer.daemon = True
        timer.start()


def _exit_now(sig: signal.Signals) -> None:
    log.warning(
        "worker did not stop within %.0f s of %s (its broker is probably gone); exiting now",
        STOP_GRACE_SECONDS,
        sig.name,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    os._exit(0)  # stopping was asked for; committed work is safe, uncommitted is redelivered


def count_alerts(
    alerts: Sequence[dict[str, Any]], batch: Sequence[CanonicalEvent], now: datetime
) -> None:
    """Metrics of the alerts a batch raised: one per rule, and the time from storing the
    newest triggering event of this batch to now (an alert raised by a rebuild, from events
    of earlier batches only, has no latency of its own and is counted without one)."""
    recorded = {e.hub_id: e.recorded_at for e in batch}
    for alert in alerts:
        if alert["change"] != "raised":
            continue
        ALERTS_RAISED.labels(alert["rule"]).inc()
        times = [recorded[h] for h in json.loads(alert["triggering_event_ids"]) if h in recorded]
        if times:
            ALERT_LATENCY.observe(max(0.0, (now - max(times)).total_seconds()))


def dead_letter(failure: Failure) -> bytes:
    """The dead-letter record of an event set apart: ids and the reason, no content."""
    record = {
        "hub_id": failure.hub_id,
        "family_id": failure.family_id,
        "error_type": failure.error_type,
        "reason": failure.message,
    }
    return json.dumps(record, sort_keys=True).encode()


def run_worker(
    settings: Settings, ingress: KafkaIngress, logging_config: dict[str, Any] | None = None
) -> None:
    """Run the faust worker in this process until SIGTERM/SIGINT.

    logging_config: a logging.config dictionary for faust to apply (JSON lines), or None for
    faust's own console format."""
    app = create_app(settings, ingress)
    if settings.worker_metrics_port:
        serve_metrics(settings.worker_metrics_port)
    worker = BoundedWorker(
        app, loglevel=settings.log_level.lower(), quiet=True, logging_config=logging_config
    )
    worker.execute_from_commandline()
