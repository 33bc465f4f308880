"""The request guard (hub/entrypoints/api/guard.py): nothing of a body is read before the
sender is authenticated, and no route reads more than its limit (issue 12, defect 5).

httpx's ASGI transport hands the body to the app chunk by chunk as the app asks for it, so a
generator that counts what it yields shows how much the hub actually read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests import builders as b
from tests.http_errors import detail_text

CHUNK = 64 * 1024
HUGE = 200 * 1024 * 1024  # the 200 MB body of the issue, never built in memory


class CountingBody:
    """A streamed request body of `total` bytes of JSON-ish filler, counting what is read."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            chunk = b" " * min(CHUNK, self.total - self.sent)
            self.sent += len(chunk)
            yield chunk


@pytest.fixture
def hub_app(tmp_path: Path) -> Iterator[tuple[object, dict[str, str]]]:
    app = create_app(Settings(data_dir=tmp_path))
    services = app.state.services
    _p, key = services.principals.add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")
    yield app, {"Authorization": f"Bearer {key}"}
    services.engine.dispose()


def post(app: object, path: str, body: CountingBody, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.post(
                path, content=body, headers={"Content-Type": "application/json", **headers}
            )

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/v1/requests", "/v1/events", "/v1/events:batch"])
@pytest.mark.parametrize("auth", [None, "Bearer hubk_000000000000_wrong"])
def test_a_huge_unauthenticated_body_gets_401_unread(hub_app, path: str, auth) -> None:
    app, _key = hub_app
    body = CountingBody(HUGE)
    r = post(app, path, body, {"Authorization": auth} if auth else {})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["detail"][0]["path"] == "header.Authorization"
    assert body.sent <= CHUNK  # at most what the transport pulls before the app answers


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/v1/events", 64 * 1024),  # HUB_MAX_EVENT_BYTES
        ("/v1/requests", 16 * 1024),  # small bodies elsewhere
        ("/v1/alerts/00000000-0000-0000-0000-000000000000/dismiss", 16 * 1024),
    ],
)
def test_an_oversized_body_without_length_is_cut_off_at_the_limit(hub_app, path, limit) -> None:
    app, key = hub_app
    body = CountingBody(HUGE)
    r = post(app, path, body, key)
    assert r.status_code == 413, r.text
    assert f"the limit is {limit} bytes" in detail_text(r)
    assert body.sent <= limit + 2 * CHUNK  # the limit plus the chunk that passed it


def test_a_batch_may_be_as_large_as_its_events_together(hub_app) -> None:
    app, key = hub_app
    settings = app.state.services.settings  # type: ignore[attr-defined]
    limit = settings.max_batch_events * settings.max_event_bytes
    body = CountingBody(limit + 10 * CHUNK)
    r = post(app, "/v1/events:batch", body, key)
    assert r.status_code == 413
    assert limit < body.sent <= limit + 2 * CHUNK


def test_a_declared_length_over_the_limit_is_refused_before_reading(hub_app) -> None:
    app, key = hub_app
    body = CountingBody(HUGE)
    headers = key | {"Content-Length": str(HUGE)}
    r = post(app, "/v1/events", body, headers)
    assert r.status_code == 413
    assert body.sent <= CHUNK


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/v1/events", "text/plain"),
        ("/v1/events", "application/x-www-form-urlencoded"),
        ("/v1/requests", "application/xml"),
        ("/v1/events:batch", "text/csv"),
    ],
)
def test_a_body_in_a_media_type_the_route_does_not_take_is_415(hub_app, path, ctype) -> None:
    app, key = hub_app

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            content = json.dumps(b.incident()).encode()
            return await client.post(path, content=content, headers=key | {"Content-Type": ctype})

    r = asyncio.run(go())
    assert r.status_code == 415
    [problem] = r.json()["detail"]
    assert problem["path"] == "header.Content-Type" and "application/json" in problem["msg"]
