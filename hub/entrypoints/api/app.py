"""The FastAPI app: create_app(settings) builds it with its services and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine

from audit.wiring import open_audit_store
from consent.policy import load_policy
from hub.adapters.crypto.ciphers import FieldCipher, SqlKeyStore
from hub.adapters.crypto.keys import load_or_create_key
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.crypto.vault import Vault
from hub.adapters.kafka import topics
from hub.adapters.rules_file import load_area_book
from hub.adapters.sql.batching import BatchingAppender
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract import EVENT_TYPES
from hub.domain.agencies import load_agency_types
from hub.entrypoints.api import (
    agenda,
    alert_actions,
    alert_stream,
    alerts,
    events,
    families,
    health,
    identity,
    ig,
    reports,
    requests,
    subjects,
)
from hub.entrypoints.api.deps import Services
from hub.entrypoints.api.errors import on_validation_error
from hub.pipeline.relay import OutboxRelay
from hub.pipeline.ticker import Ticker
from hub.services.disclosure import PolicyPoint
from hub.services.ingress import Ingress
from hub.settings import Settings


def field_cipher(settings: Settings, engine: Engine) -> FieldCipher:
    master = load_or_create_key(
        settings.master_key_file or settings.data_dir / "keys" / "master.key"
    )
    return FieldCipher(SqlKeyStore(engine, master))


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    store = SqlEventStore(engine)
    audit = open_audit_store(settings, engine)  # audit tables, triggers, signing key
    tokeniser = Tokeniser(load_or_create_key(settings.data_dir / "keys" / "subject-token.key"))
    ingress = Ingress(
        store=store,
        tokeniser=tokeniser,
        cipher=field_cipher(settings, engine),
        agency_types=load_agency_types(),
        events_topic=settings.topic(topics.EVENTS),
        future_tolerance=timedelta(seconds=settings.future_tolerance_seconds),
    )
    relay = None
    if settings.kafka_bootstrap:
        relay = OutboxRelay(
            store, settings.kafka_bootstrap, settings.embedded_broker, settings.relay_poll_seconds
        )
    appender = BatchingAppender(store)
    agency_types = load_agency_types()
    policy_text = (
        settings.sharing_policy_file.read_text("utf-8") if settings.sharing_policy_file else None
    )
    policy = PolicyPoint(
        engine, load_policy(policy_text, EVENT_TYPES, agency_types), ingress.cipher, audit
    )
    vault = Vault(engine, ingress.cipher)
    areas = load_area_book(settings)  # a bad rules file stops the hub here, naming the line
    return Services(
        settings, engine, SqlPrincipalStore(engine), ingress, audit, appender, policy, vault,
        areas, relay,
    )  # fmt: skip


def clock_ticker(services: Services) -> Ticker | None:
    """The hub clock runs beside the relay that publishes its ticks."""
    relay = services.relay
    if relay is None:
        return None
    topic = services.settings.topic(topics.EVENTS)
    return Ticker(services.engine, topic, services.settings.clock_check_seconds, relay.wake)


def create_app(settings: Settings) -> FastAPI:
    services = build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.appender.start()
        task = asyncio.create_task(services.relay.run()) if services.relay else None
        ticker = clock_ticker(services)
        ticking = asyncio.create_task(ticker.run()) if ticker else None
        try:
            yield
        finally:
            if ticker is not None and ticking is not None:
                ticker.stop()
                await ticking
            if task is not None and services.relay is not None:
                services.relay.stop()
                await task
            services.appender.stop()
            services.engine.dispose()

    app = FastAPI(
        title="The hub",
        summary="Multi-agency domestic-abuse information-sharing hub",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.include_router(events.router)
    app.include_router(alerts.router)
    app.include_router(alert_stream.router)
    app.include_router(alert_actions.router)
    app.include_router(agenda.router)
    app.include_router(subjects.router)
    app.include_router(requests.router)
    app.include_router(ig.router)
    app.include_router(identity.router)
    app.include_router(families.router)
    app.include_router(reports.router)
    app.include_router(health.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, object]:
        return {"status": "ok", "relay": services.relay is not None}

    return app
