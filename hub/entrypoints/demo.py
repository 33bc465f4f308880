"""`hub demo`: the embedded stack with simulated agencies, alerts printed as they are raised."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from consent.policy import PersonRole
from consumers.console import print_alerts
from hub.adapters.kafka import topics
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.entrypoints.api.app import create_app
from hub.entrypoints.logs import LOG_FILE, logging_to_file, uvicorn_log_config
from hub.entrypoints.stack import Stack
from hub.settings import Settings
from producers.simulator import DEMO_AGENCIES, demo_stream

DEMO_CHAIR = "demo-chair"  # the web login `hub demo` prints
DEMO_AREA = "TEST-AREA"  # hub/data/areas.toml lists the simulated agencies under it
SEND_INTERVAL_SECONDS = 0.25


def _issue_keys(app_services: Any) -> tuple[dict[str, str], str]:
    principals: SqlPrincipalStore = app_services.principals
    keys = {
        name: principals.add(name, "agency_system", kind, agency_id=name)[1]
        for name, kind in DEMO_AGENCIES.items()
    }
    chair_key = principals.add(DEMO_CHAIR, "person", PersonRole.MARAC_CHAIR, None)[1]
    return keys, chair_key


def _demo_login(app_services: Any) -> str:
    """A password for the demo chair, made up now and printed once: the demo's data folder
    is new every run, so the login lives only as long as the demo."""
    password = secrets.token_urlsafe(12)
    SqlLoginStore(app_services.engine).set_password(DEMO_CHAIR, password)
    return password


async def _simulate(
    base: str, keys: dict[str, str], chair_key: str, families: int, seed: int | None
) -> None:
    seed = random.randrange(1_000_000) if seed is None else seed
    stream = demo_stream(families, seed=seed, showcase=True)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for n, (agency, event) in enumerate(stream, 1):
            r = await client.post(
                "/v1/events", json=event, headers={"Authorization": f"Bearer {keys[agency]}"}
            )
            print(f"  {agency:<14} sent {event['type']:<16} → {r.status_code} ({n}/{len(stream)})")
            await asyncio.sleep(SEND_INTERVAL_SECONDS)  # pacing the simulated agencies
        print("  all simulated events sent; the chair reads alerts every 5 s")
        while True:
            chair = {"Authorization": f"Bearer {chair_key}"}
            body = (await client.get("/v1/alerts", headers=chair)).json()
            seen = {a["family_id"] for a in body["alerts"]}
            print(
                f"  chair sees {len(body['alerts'])} alerts in {len(seen)} families "
                f"(audit record {body['audit_record_id']})"
            )
            r = await client.get("/v1/marac/agenda", headers=chair, params={"area": DEMO_AREA})
            if r.status_code == 200:
                cases = r.json()["cases"]
                repeats = sum(1 for c in cases if c["repeat"])
                print(f"  next {DEMO_AREA} Marac agenda: {len(cases)} cases, {repeats} repeats")
            await asyncio.sleep(5)  # the chair checks in periodically


async def _run(settings: Settings, duration: float | None, families: int, seed: int | None) -> None:
    app = create_app(settings)
    keys, chair_key = _issue_keys(app.state.services)
    password = _demo_login(app.state.services)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            log_config=uvicorn_log_config(settings.log_format),
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)  # waiting for uvicorn to bind, with the task as a guard
    if serving.done():
        await serving
        return
    port = server.servers[0].sockets[0].getsockname()[1]  # the real one when asked for port 0
    base = f"http://{settings.api_host}:{port}"
    print(f"hub demo: API on {base} (OpenAPI docs at {base}/docs); Ctrl-C stops")
    print(f"hub demo: Marac chair's pages at {base}/ (user {DEMO_CHAIR}, password {password})")
    helpers = [
        asyncio.create_task(
            print_alerts(
                settings.kafka_bootstrap,
                settings.topic(topics.ALERTS),
                settings.embedded_broker,
                emit=lambda line: print(f"\033[1m{line}\033[0m"),
            )
        ),
        asyncio.create_task(_simulate(base, keys, chair_key, families, seed)),
    ]
    if duration is not None:

        async def stop_later() -> None:
            await asyncio.sleep(duration)
            server.should_exit = True

        helpers.append(asyncio.create_task(stop_later()))
    try:
        await serving
    finally:
        for task in helpers:
            task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def run_demo(
    settings: Settings, duration: float | None, families: int, seed: int | None = None
) -> int:
    """Run the demo; seed fixes the simulated agencies' events (random when None)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    demo_settings = settings.replace(
        data_dir=settings.data_dir / "demo" / stamp,
        database_url="",
        kafka_bootstrap="",  # the demo always runs on the embedded defaults
    )
    print(f"hub demo: data in {demo_settings.data_dir} (log: {LOG_FILE} there)")
    stack = Stack(demo_settings)
    with logging_to_file(demo_settings.data_dir, settings.log_format):
        try:
            demo_settings = stack.start()
            asyncio.run(_run(demo_settings, duration, families, seed))
        finally:
            print("hub demo: stopping worker and broker")
            stack.stop()
        return _verify_audit(demo_settings)


def _verify_audit(settings: Settings) -> int:
    """Seal the demo's audit log with a signed checkpoint and verify all of it."""
    from hub.adapters.audit_wiring import load_or_create_signer, open_audit_store, signing_key_path
    from hub.adapters.sql.db import make_engine

    store = open_audit_store(settings, make_engine(settings.effective_database_url), publish=False)
    head = store.head()
    if head is not None and head[0] > 0:
        store.checkpoint()  # seal what the demo disclosed, so the signature is checked too
    public_key = load_or_create_signer(signing_key_path(settings)).public_key
    result = store.verify(public_key=public_key)
    state = "verified" if result.ok else f"BROKEN: {result.problem}"
    print(
        f"hub demo: audit log {state} ({result.records} records; chain, Merkle roots and "
        "checkpoint signatures checked)"
    )
    return 0 if result.ok else 1
