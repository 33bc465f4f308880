"""The FastAPI app: create_app(settings) builds it with its services and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from hub.adapters.metrics import LagCollector
from hub.adapters.sql.logins import SqlLoginStore
from hub.bootstrap import Services, build_services, clock_ticker, feed_egress
from hub.entrypoints.api import (
    agenda,
    alert_actions,
    alert_stream,
    alerts,
    events,
    families,
    feed,
    health,
    identity,
    ig,
    metrics,
    reports,
    requests,
    subjects,
)
from hub.entrypoints.api.access_log import hide_query_values
from hub.entrypoints.api.errors import register_error_handlers
from hub.entrypoints.api.guard import RequestGuard
from hub.entrypoints.api.health import readiness_monitor
from hub.entrypoints.api.metrics import EventOutcomes
from hub.entrypoints.api.openapi import document_errors
from hub.entrypoints.web import install_web
from hub.settings import Settings

__all__ = ["create_app"]

ROUTERS = (
    events, alerts, alert_stream, alert_actions, agenda, subjects, requests, ig, identity,
    families, reports, feed,
)  # fmt: skip


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The API on these settings; services built by hub.bootstrap unless given (a test may
    pass services holding a fake port)."""
    if services is None:
        services = build_services(settings)
    readiness = readiness_monitor(services)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.appender.start()
        watching = asyncio.create_task(readiness.run())
        task = asyncio.create_task(services.relay.run()) if services.relay else None
        ticker = clock_ticker(services)
        ticking = asyncio.create_task(ticker.run()) if ticker else None
        egress = feed_egress(services)
        publishing = asyncio.create_task(egress.run()) if egress else None
        try:
            yield
        finally:
            if egress is not None and publishing is not None:
                egress.stop()
                await publishing
            if ticker is not None and ticking is not None:
                ticker.stop()
                await ticking
            if task is not None and services.relay is not None:
                services.relay.stop()
                await task
            readiness.stop()
            await watching
            services.appender.stop()
            services.engine.dispose()

    app = FastAPI(
        title="The hub",
        summary="Multi-agency domestic-abuse information-sharing hub",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.readiness = readiness
    # the lag gauges of /metrics, from the monitor's latest answer (no query at scrape time)
    app.state.lag_registry = CollectorRegistry(auto_describe=False)
    app.state.lag_registry.register(LagCollector(lambda: readiness.latest().body()))
    hide_query_values()
    register_error_handlers(app)
    app.add_middleware(RequestGuard, services=services)
    app.add_middleware(EventOutcomes)  # outside the guard: its refusals are counted too
    for module in ROUTERS:
        document_errors(module.router)
        app.include_router(module.router)
    app.state.route_methods = [
        (r.path_regex, r.methods)
        for m in ROUTERS
        for r in m.router.routes
        if isinstance(r, APIRoute)
    ]
    app.include_router(health.router)
    app.include_router(metrics.router)
    install_web(app, settings, SqlLoginStore(services.engine))  # the people's pages

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, object]:
        return {"status": "ok", "relay": services.relay is not None}

    return app
