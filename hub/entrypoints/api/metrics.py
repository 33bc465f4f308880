"""GET /metrics (Prometheus' text format), and the count of events sent over HTTP.

Every answer of POST /v1/events and every refusal of a whole POST /v1/events:batch is
counted by ``EventOutcomes``, an ASGI middleware outside the request guard, so refusals
made before any route runs (401, 413, 415) are counted too; the batch route counts its
per-event results itself. A rejection's reason is the same code the batch results and the
Kafka-direct rejections carry (README: Sending events).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.adapters.metrics import CONTENT_TYPE_LATEST, count_event, exposition

router = APIRouter(tags=["ops"])

EVENT_PATHS = frozenset({"/v1/events", "/v1/events:batch"})
REASON_OF_STATUS = {
    400: "malformed_json", 401: "unauthenticated", 403: "not_allowed", 409: "conflict",
    413: "too_large", 415: "unsupported_media_type",
}  # fmt: skip
# A 422's first problem type → the reason code (anything else is "invalid").
REASON_OF_TYPE = {
    "future_dated": "future_dated",
    "json_invalid": "malformed_json",
    "union_tag_invalid": "unknown_type",
    "union_tag_not_found": "unknown_type",
}


@router.get(
    "/metrics",
    summary="The hub's metrics in Prometheus' text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    """Events accepted and rejected (by reason), audit appends, disclosure refusals, login
    failures of this process; relay and consumer lag of the hub (docs/operations.md)."""
    return Response(exposition(request.app.state.lag_registry), media_type=CONTENT_TYPE_LATEST)


def reason_of(status: int, body: bytes) -> str:
    """The rejection reason of an event answer that was not a 2xx."""
    if status != 422:
        return REASON_OF_STATUS.get(status, "error")
    try:
        kind = json.loads(body)["detail"][0]["type"]
    except (ValueError, LookupError, TypeError):
        return "invalid"
    return REASON_OF_TYPE.get(kind, "invalid")


class EventOutcomes:
    """Counts the answers to POST /v1/events (and refusals of a whole batch)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in EVENT_PATHS:
            await self.app(scope, receive, send)
            return
        single = scope["path"] == "/v1/events"
        status, duplicate, body = 0, False, b""

        async def counting(message: Message) -> None:
            nonlocal status, duplicate, body
            if message["type"] == "http.response.start":
                status = message["status"]
                duplicate = any(k.lower() == b"hub-duplicate" for k, _ in message["headers"])
            elif message["type"] == "http.response.body" and status == 422:
                body += message.get("body", b"")  # error bodies are small
            await send(message)

        await self.app(scope, receive, counting)
        if 200 <= status < 300:
            if single:  # a batch's 200 holds per-event results: the route counts them
                count_event("http", "duplicate" if duplicate else "accepted")
        elif status:
            count_event("http", "rejected", reason_of(status, body))
