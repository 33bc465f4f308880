"""POST /v1/events (one event) and POST /v1/events:batch (many): agencies send events."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hub.adapters.metrics import count_event
from hub.contract import EVENT_CLASSES, IncomingEvent
from hub.contract.parse import InvalidEvent, error_entry, parse_event
from hub.entrypoints.api.deps import PrincipalDep, ServicesDep
from hub.entrypoints.api.errors import body_error
from hub.entrypoints.api.guard import NDJSON as NDJSON_TYPES
from hub.services.ingress import EventIdConflict, IngressError

router = APIRouter(prefix="/v1", tags=["events"])


class EventAccepted(BaseModel):
    id: str
    hub_id: str
    status: str = "accepted"


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        413: {"description": "The event is larger than HUB_MAX_EVENT_BYTES"},
        403: {"description": "Your agency type may not send this event type"},
        409: {"description": "This event id was used before with different content"},
        422: {"description": "The event is invalid: each error names the field path"},
    },
)
async def post_event(
    event: Annotated[IncomingEvent, Body()],
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    """Accept one event. Answers 202 only once the event is stored; a resend of the same id
    (same content) gets the same answer, with the header `Hub-Duplicate: true`."""
    ingress = services.ingress
    # prepare is pure CPU (tokens, checks; the store seals as it stores), so it runs here:
    # a thread hop per request would cost more than it does.
    canonical, content_hash = ingress.prepare(event, principal, datetime.now(UTC))
    result = await services.appender.append(canonical, content_hash, ingress.events_topic)
    receipt = ingress.receipt(event, result)  # EventIdConflict: the app's handler answers 409
    if not receipt.duplicate:
        services.wake_relay()
    # the answer as built here (EventAccepted's shape, which documents it): FastAPI would
    # validate and serialise a returned model again on every request
    return JSONResponse(
        {"id": receipt.id, "hub_id": receipt.hub_id, "status": "accepted"},
        status.HTTP_202_ACCEPTED,
        {"Hub-Duplicate": "true"} if receipt.duplicate else None,
    )


class BatchItemResult(BaseModel):
    index: int
    id: str | None = None
    hub_id: str | None = None
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None
    errors: list[dict[str, Any]] = []


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[BatchItemResult]


BATCH_ITEM = (
    "an event as for POST /v1/events (one of "
    + ", ".join(c.__name__ for c in EVENT_CLASSES)
    + "); each is checked and stored on its own"
)


def _split_batch(body: bytes, content_type: str, limit: int) -> list[bytes | dict[str, Any]]:
    """The batch's items: NDJSON lines (kept as bytes, so a bad line is reported alone) or
    the elements of a JSON array."""
    if content_type.split(";")[0].strip() in NDJSON_TYPES:
        items: list[bytes | dict[str, Any]] = [ln for ln in body.split(b"\n") if ln.strip()]
    else:
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise body_error(
                status.HTTP_400_BAD_REQUEST,
                f"the body is not a JSON array ({exc}); send a JSON array of events, or "
                "NDJSON with Content-Type: application/x-ndjson",
                "json_invalid",
            ) from None
        if not isinstance(decoded, list):
            raise body_error(
                status.HTTP_400_BAD_REQUEST,
                "send a JSON array of events, or NDJSON with Content-Type: application/x-ndjson",
                "model_type",
            )
        items = decoded
    if not items:
        raise body_error(status.HTTP_400_BAD_REQUEST, "the batch holds no events", "too_short")
    if len(items) > limit:
        raise body_error(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the batch holds {len(items)} events; send at most {limit} per request",
            "too_large",
        )
    return items


def _prepare_batch(
    items: list[bytes | dict[str, Any]], services: Any, principal: Any, now: datetime
) -> tuple[list[BatchItemResult | None], list[tuple[int, Any, Any, str]]]:
    """Check every item; the rejected get their result, the rest are ready to store."""
    results: list[BatchItemResult | None] = [None] * len(items)
    ready = []
    for i, item in enumerate(items):
        event_id = item.get("id") if isinstance(item, dict) else None
        try:
            incoming = parse_event(item, services.settings.max_event_bytes)
            canonical, content_hash = services.ingress.prepare(incoming, principal, now)
        except InvalidEvent as exc:
            results[i] = BatchItemResult(
                index=i, id=event_id, status="rejected", reason=exc.reason, errors=exc.errors
            )
            continue
        except IngressError as exc:
            results[i] = BatchItemResult(
                index=i,
                id=incoming.id,
                status="rejected",
                reason=exc.reason,
                errors=[error_entry(exc.field_path, str(exc), exc.reason)],
            )
            continue
        ready.append((i, incoming, canonical, content_hash))
    return results, ready


@router.post(
    "/events:batch",
    response_model=BatchResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        # Not a constraint on the items: each is checked on its own, and an
                        # invalid one is refused in the results without failing the batch.
                        "items": {"description": BATCH_ITEM},
                    }
                },
                "application/x-ndjson": {
                    "schema": {"type": "string", "pattern": r"\S", "description": BATCH_ITEM}
                },
            },
        }
    },
    responses={
        400: {"description": "The body is neither a JSON array nor NDJSON, or holds no event"},
        413: {
            "description": "More events than HUB_MAX_BATCH_EVENTS (default 1000), or a body "
            "larger than HUB_MAX_BATCH_EVENTS times HUB_MAX_EVENT_BYTES"
        },
    },
)
async def post_batch(
    request: Request, principal: PrincipalDep, services: ServicesDep
) -> BatchResult:
    """Send up to HUB_MAX_BATCH_EVENTS events as a JSON array or NDJSON. Each event is checked
    and stored on its own: one bad event does not reject the rest. The answer lists, in
    order, each event's status (accepted, duplicate or rejected with its reason and field
    paths); accepted events are stored before the answer is sent. A sender that may send no
    event at all (a person's key) is refused whole: 403."""
    services.ingress.check_sender(principal)  # NotAllowedToSend: the app's handler answers 403
    body = await request.body()
    limit = services.settings.max_batch_events
    items = _split_batch(body, request.headers.get("content-type", ""), limit)
    results, ready = await asyncio.to_thread(
        _prepare_batch, items, services, principal, datetime.now(UTC)
    )
    topic = services.ingress.events_topic
    stored = await asyncio.gather(
        *(services.appender.append(c, h, topic) for _i, _e, c, h in ready)
    )
    for (i, incoming, _c, _h), result in zip(ready, stored, strict=True):
        try:
            receipt = services.ingress.receipt(incoming, result)
        except EventIdConflict as exc:
            results[i] = BatchItemResult(
                index=i,
                id=incoming.id,
                status="rejected",
                reason=EventIdConflict.reason,
                errors=[error_entry(("id",), str(exc), "conflict")],
            )
            continue
        results[i] = BatchItemResult(
            index=i,
            id=receipt.id,
            hub_id=receipt.hub_id,
            status="duplicate" if receipt.duplicate else "accepted",
        )
    if services.relay is not None:
        services.relay.wake()
    final = [r for r in results if r is not None]
    for r in final:
        count_event("http", r.status, r.reason)
    return BatchResult(
        accepted=sum(r.status == "accepted" for r in final),
        duplicates=sum(r.status == "duplicate" for r in final),
        rejected=sum(r.status == "rejected" for r in final),
        results=final,
    )
