"""Readiness: GET /readyz answers 200 when the hub can take an event all the way to an alert,
503 with the failing checks named when it cannot. (GET /healthz only says the process is up.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub.bootstrap import Services
from hub.services.readiness import Readiness, ReadinessLimits, ReadinessMonitor, check

router = APIRouter(tags=["ops"])

EXAMPLE = {
    "status": "not ready",
    "failing": ["worker"],
    "checks": {
        "database": {"ok": True},
        "broker": {"ok": True, "bootstrap": "127.0.0.1:9092"},
        "relay": {"ok": True, "unsent": 0, "lag_seconds": 0.0, "limit_seconds": 30.0},
        "worker": {
            "ok": False,
            "heartbeat_age_seconds": 42.0,
            "unapplied": 120,
            "lag_seconds": 40.2,
            "limit_seconds": 60.0,
            "detail": "no worker heartbeat for 42 s",
        },
    },
}


@router.get(
    "/readyz",
    summary="Is the hub ready: database, broker, worker, and how far behind",
    responses={
        200: {"description": "every check passes"},
        503: {
            "description": "a check fails; `failing` names it, `checks` says why",
            "content": {"application/json": {"example": EXAMPLE}},
        },
    },
)
async def readyz(request: Request) -> JSONResponse:
    """The latest answer of the readiness checks, run every HUB_READINESS_INTERVAL_SECONDS."""
    monitor: ReadinessMonitor = request.app.state.readiness
    result = await monitor.current()
    body: dict[str, Any] = result.body()
    return JSONResponse(body, status_code=200 if result.ready else 503)


def readiness_monitor(services: Services) -> ReadinessMonitor:
    """The API's readiness monitor: every check, on these services, every interval."""
    limits = ReadinessLimits.from_settings(services.settings)

    def run_check() -> Readiness:
        relay = services.relay
        return check(
            services.engine,
            relay.state() if relay is not None else None,
            services.settings.kafka_bootstrap,
            datetime.now(UTC),
            limits,
        )

    return ReadinessMonitor(run_check, services.settings.readiness_interval_seconds)
