"""The hub's Prometheus metrics (prometheus-client), defined once and named ``hub_*``.

Counters and the histogram live in the process that does the work and are scraped from it:
the API's ``GET /metrics`` (events over HTTP, audit appends, disclosure refusals, login
failures) and the worker's ``HUB_WORKER_METRICS_PORT`` (events over Kafka-direct ingress,
alerts by rule, alert latency). Each API replica and each worker is its own Prometheus
target; sum the counters across them. Gauges that describe the whole hub (relay lag,
consumer lag, heartbeats) are read from the database, at most once per readiness interval,
by the API's readiness monitor (``LagCollector`` turns its latest answer into samples at
scrape time), so a scrape never queries the database and every replica reports the same.

Hooks in hot paths are one counter increment: no label is ever built from personal data
(reasons, rules, outcomes and ways in are closed vocabularies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "ALERTS_RAISED",
    "ALERT_LATENCY",
    "AUDIT_APPENDS",
    "CONTENT_TYPE_LATEST",
    "DISCLOSURE_REFUSALS",
    "EVENTS",
    "LOGIN_FAILURES",
    "CountedAuditLog",
    "LagCollector",
    "count_event",
    "exposition",
    "serve_metrics",
]

EVENTS = Counter(
    "hub_events",
    "Events sent to the hub, by way in (http, kafka) and outcome (accepted, duplicate, "
    "rejected); a rejection carries its reason code (README: Sending events).",
    ["way", "outcome", "reason"],
)
ALERTS_RAISED = Counter(
    "hub_alerts_raised", "Alerts the worker raised (first found), by rule.", ["rule"]
)
# From the moment the hub stored the newest triggering event to the alert being written:
# the whole live path (outbox, relay, broker, worker). Buckets span the embedded broker's
# ~1 s hops up to a worker that was minutes behind.
ALERT_LATENCY = Histogram(
    "hub_alert_latency_seconds",
    "Seconds from storing the event that raised an alert to the alert being written.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
AUDIT_APPENDS = Counter(
    "hub_audit_appends", "Records appended to the audit log, by outcome.", ["outcome"]
)
DISCLOSURE_REFUSALS = Counter(
    "hub_disclosure_refusals",
    "Reads refused by the policy point or the area boundary (audited with outcome refused).",
)
LOGIN_FAILURES = Counter(
    "hub_login_failures", "Web logins refused (wrong name or password, or locked)."
)


def count_event(way: str, outcome: str, reason: str | None = None) -> None:
    """One event through a way in; reason only for rejections."""
    EVENTS.labels(way, outcome, reason or "").inc()


class CountedAuditLog:
    """An audit log that counts what it appends (hub_audit_appends by outcome, and refusals
    in hub_disclosure_refusals) once the record is written; a failed append counts nothing."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def append(self, body: dict[str, Any]) -> Any:
        record = self._inner.append(body)
        outcome = str(body.get("outcome", ""))
        AUDIT_APPENDS.labels(outcome).inc()
        if outcome == "refused":
            DISCLOSURE_REFUSALS.inc()
        return record

    def records(self, batch: int = 5000) -> Iterator[Any]:
        return self._inner.records(batch)  # type: ignore[no-any-return]


class LagCollector(Collector):
    """Gauges from the readiness monitor's latest answer (no database query at scrape).

    latest() returns the readiness body (hub.services.readiness.Readiness.body()) or None
    before the first check."""

    def __init__(self, latest: Callable[[], Mapping[str, Any] | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[GaugeMetricFamily]:
        body = self._latest()
        checks: Mapping[str, Any] = (body or {}).get("checks", {})
        yield _gauge("hub_ready", "1 when /readyz answers ready.", body is not None and
                     body.get("status") == "ready")  # fmt: skip
        for name, check in checks.items():
            yield _gauge(f"hub_check_{name}_ok", f"1 when the {name} check passes.", check["ok"])
        relay, worker = checks.get("relay", {}), checks.get("worker", {})
        samples = (
            ("hub_relay_lag_seconds", "Age of the oldest outbox row not yet published.",
             relay.get("lag_seconds")),
            ("hub_relay_unsent", "Outbox rows not yet published.", relay.get("unsent")),
            ("hub_consumer_lag_seconds", "Age of the oldest published event the projector "
             "has not applied (among the newest 10,000).", worker.get("lag_seconds")),
            ("hub_consumer_unapplied", "Published events the projector has not applied "
             "(among the newest 10,000).", worker.get("unapplied")),
            ("hub_worker_heartbeat_age_seconds", "Seconds since the newest worker heartbeat.",
             worker.get("heartbeat_age_seconds")),
            ("hub_events_set_apart", "Events set apart as poison, waiting for an operator.",
             worker.get("set_apart")),
        )  # fmt: skip
        for name, doc, value in samples:
            if value is not None:
                yield _gauge(name, doc, value)


def _gauge(name: str, doc: str, value: float | bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def exposition(*extra: CollectorRegistry) -> bytes:
    """This process's metrics, and those of the registries given, in Prometheus' text format."""
    return b"".join(generate_latest(r) for r in (REGISTRY, *extra))


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Serve /metrics of this process on its own port (the worker has no web server)."""
    start_http_server(port, addr=host)
