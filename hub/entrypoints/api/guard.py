"""The request guard: an ASGI middleware in front of every /v1 route that, before a single
byte of the body is read,

1. authenticates the bearer key (the key cache first, then one indexed lookup), so an
   unauthenticated sender cannot make the hub buffer anything (issue 12, defect 5: a 200 MB
   body to POST /v1/requests used to be read whole before its 401);
2. refuses a body in a media type the route does not take (415), naming the ones it does;
3. limits the body while it streams in: a Content-Length over the route's limit is refused at
   once, and a body without one is counted chunk by chunk and cut off (413) as soon as it
   passes the limit, so at most the limit plus one chunk is ever read.

The principal found here travels in the request's scope state; deps.authenticate takes it
from there, so a key is looked up once per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.adapters.sql.principals import Principal
from hub.bootstrap import Services
from hub.entrypoints.api.errors import error_response, problem

JSON = ("application/json",)
NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")
# Routes other than event ingress take small JSON documents (a reason, a decision, a date).
SMALL_BODY_BYTES = 16 * 1024
MISSING_KEY = "send your API key as 'Authorization: Bearer hubk_…'"
BAD_KEY = (
    "this API key is not valid (unknown, mistyped or revoked); ask the hub administrator "
    "for a new one"
)


@dataclass(frozen=True)
class BodyRule:
    limit: int  # bytes
    media_types: tuple[str, ...]
    what: str  # for the 413 message


def body_rule(services: Services, method: str, path: str) -> BodyRule:
    """How large a body this route takes, and in which media types."""
    settings = services.settings
    if method == "POST" and path == "/v1/events":
        return BodyRule(settings.max_event_bytes, JSON, "an event (HUB_MAX_EVENT_BYTES)")
    if method == "POST" and path == "/v1/events:batch":
        # each event at most HUB_MAX_EVENT_BYTES, at most HUB_MAX_BATCH_EVENTS of them
        limit = settings.max_batch_events * settings.max_event_bytes
        return BodyRule(
            limit, JSON + NDJSON, "a batch (HUB_MAX_BATCH_EVENTS times HUB_MAX_EVENT_BYTES)"
        )
    return BodyRule(SMALL_BODY_BYTES, JSON, "this request")


async def authenticate_key(services: Services, api_key: str) -> Principal | None:
    """The principal holding this key, or None; remembered for a while once found."""
    principal = services.key_cache.get(api_key)
    if principal is None:
        principal = await asyncio.to_thread(services.principals.authenticate, api_key)
        if principal is not None:
            services.key_cache.put(api_key, principal)
    return principal


def bearer_key(headers: Headers) -> str | None:
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


class RequestGuard:
    """Authenticate, check the media type and limit the body of every /v1 request."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            # answered without reading the body: the server discards what was sent
            await refusal(scope, receive, send)
            return
        rule = body_rule(self.services, scope["method"], scope["path"])
        await self.app(scope, _limited(receive, rule), send)

    async def _refusal(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        key = bearer_key(headers)
        if key is None:
            return _unauthorised(MISSING_KEY)
        principal = await authenticate_key(self.services, key)
        if principal is None:
            return _unauthorised(BAD_KEY)
        scope.setdefault("state", {})["principal"] = principal
        rule = body_rule(self.services, scope["method"], scope["path"])
        length = headers.get("content-length")
        has_body = (length is not None and length.strip() != "0") or (
            "transfer-encoding" in headers
        )
        if not has_body:
            return None
        if length is not None and length.strip().isdigit() and int(length) > rule.limit:
            return too_large(rule)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in rule.media_types:
            sent = f"'{media_type}'" if media_type else "no Content-Type"
            msg = f"{sent} is not accepted here; send {' or '.join(rule.media_types)}"
            return error_response(
                415, [problem(("header", "Content-Type"), msg, "unsupported_media_type")]
            )
        return None


def _unauthorised(msg: str) -> JSONResponse:
    entry = problem(("header", "Authorization"), msg, "unauthorized")
    return error_response(401, [entry], headers={"WWW-Authenticate": "Bearer"})


def too_large_problem(rule: BodyRule) -> dict[str, Any]:
    msg = f"the body is larger than allowed for {rule.what}: the limit is {rule.limit} bytes"
    return problem(("body",), msg, "too_large")


def too_large(rule: BodyRule) -> JSONResponse:
    return error_response(413, [too_large_problem(rule)])


def _limited(receive: Receive, rule: BodyRule) -> Receive:
    """receive, counting body bytes: past the limit it raises a 413 that the app's error
    handler answers (FastAPI lets an HTTPException from reading the body through)."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > rule.limit:
                # the app's handler (errors.py) takes a list of problems as the detail
                raise HTTPException(413, [too_large_problem(rule)])  # type: ignore[arg-type]
        return message

    return limited
