"""The alert lifecycle over HTTP: POST /v1/alerts/{alert_id}/acknowledge | agenda | dismiss.

Each decision is a hub event (hub/domain/alert_lifecycle.py: the transitions, and why a decision is
stored at most once) appended to the event store with its outbox row, then published by the
relay like any event; the worker's projector turns it into the alert's status, and it shows in
the family's timeline. The answer is 202 with the event's hub id: the status in the alerts
table follows when the worker has applied it.

Same principals and area rule as GET /v1/alerts, and one more: a reader may act only on an
alert the policy would show them (every triggering event shared). Acting rests on reading the
alert, so the decision is audited before it is stored (503 and nothing stored if it cannot be).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response, status
from pydantic import BaseModel, ConfigDict, StringConstraints

from hub.adapters.sql.principals import Principal
from hub.entrypoints.api.decisions import record_decision
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, Services, ServicesDep
from hub.entrypoints.api.errors import validation_error
from hub.entrypoints.api.params import IsoDate
from hub.services.access import Purpose
from hub.services.alert_decisions import Decided, decide

router = APIRouter(prefix="/v1", tags=["alerts"])

ALERT_ID = r"^[0-9a-f-]{36}$"


class AgendaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meeting_date: IsoDate | None = None


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


async def _decision_route(
    principal: Principal, services: Services, response: Response, alert_id: str, verb: str,
    purpose: Purpose, extra: dict[str, Any],
) -> Decided:  # fmt: skip
    return await record_decision(
        services, response, decide, services, principal, alert_id, verb, purpose.value, extra
    )


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Not a Marac chair or coordinator, another area, or triggers not shared"},
    404: {"description": "No such alert"},
    409: {"description": "The alert's status does not allow this decision; the reason says"},
    422: {"description": "A missing or invalid field, named by its path"},
    503: {"description": "The decision could not be audited, so it was not taken"},
}
AlertIdPath = Path(pattern=ALERT_ID)
DECISION = {"status_code": status.HTTP_202_ACCEPTED, "response_model": Decided,
            "responses": DECISION_RESPONSES, "dependencies": [THROUGH_POLICY_POINT]}  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", **DECISION)  # type: ignore[arg-type]
async def acknowledge_alert(
    principal: PrincipalDep, services: ServicesDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
) -> Decided:  # fmt: skip
    """The chair or coordinator has seen the alert and holds it (a new alert only)."""
    return await _decision_route(
        principal, services, response, alert_id, "acknowledge", purpose, {}
    )


@router.post("/alerts/{alert_id}/agenda", **DECISION)  # type: ignore[arg-type]
async def add_alert_to_agenda(
    principal: PrincipalDep, services: ServicesDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
    body: Annotated[AgendaIn | None, Body()] = None,
) -> Decided:  # fmt: skip
    """Put the case on the Marac agenda (the next meeting, or ``meeting_date``)."""
    meeting = None if body is None or body.meeting_date is None else body.meeting_date.isoformat()
    return await _decision_route(
        principal, services, response, alert_id, "agenda", purpose,
        {"meeting_date": meeting},
    )  # fmt: skip


# The body is optional to FastAPI only so that its absence gets the same field-named 422 as
# an empty one; the document says it is required.
@router.post(
    "/alerts/{alert_id}/dismiss",
    openapi_extra={"requestBody": {"required": True}},
    **DECISION,  # type: ignore[arg-type]
)
async def dismiss_alert(
    principal: PrincipalDep, services: ServicesDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
    body: Annotated[DismissIn | None, Body()] = None,
) -> Decided:  # fmt: skip
    """Dismiss with a reason (required: ``{"reason": "..."}``). A dismissed alert comes back
    as new when further events meet its rule; dismissing one already dismissed is a 409 (the
    first reason stands)."""
    if body is None:  # no body at all: name the field to send, as for an empty one
        raise validation_error(("reason",), "Field required: say why", "missing")
    return await _decision_route(
        principal, services, response, alert_id, "dismiss", purpose,
        {"reason": body.reason},
    )  # fmt: skip
