"""POST /v1/events: agencies send one event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Response, status
from pydantic import BaseModel

from hub.api.deps import PrincipalDep, ServicesDep
from hub.api.errors import validation_error
from hub.contract import IncomingEvent
from hub.ingress import EventIdConflict, EventRejected, NotAllowedToSend

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
        401: {"description": "No valid API key"},
        403: {"description": "Your agency type may not send this event type"},
        409: {"description": "This event id was used before with different content"},
        422: {"description": "The event is invalid: each error names the field path"},
    },
)
async def post_event(
    event: Annotated[IncomingEvent, Body()],
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> EventAccepted:
    """Accept one event. Answers 202 only once the event is stored; a resend of the same id
    (same content) gets the same answer, with the header `Hub-Duplicate: true`."""
    ingress = services.ingress
    try:
        canonical, content_hash = ingress.prepare(event, principal, datetime.now(UTC))
        result = await services.appender.append(canonical, content_hash, ingress.events_topic)
        receipt = ingress.receipt(event, result)
    except NotAllowedToSend as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except EventIdConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except EventRejected as exc:
        raise validation_error(exc.field_path, str(exc), "value_error.rejected") from None
    if receipt.duplicate:
        response.headers["Hub-Duplicate"] = "true"
    elif services.relay is not None:
        services.relay.wake()
    return EventAccepted(id=receipt.id, hub_id=receipt.hub_id)
