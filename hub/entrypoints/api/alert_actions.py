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

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, StringConstraints

from hub.adapters.kafka import topics
from hub.adapters.sql.alerts import get_alert
from hub.adapters.sql.principals import Principal
from hub.domain import alert_lifecycle as lifecycle
from hub.entrypoints.api.alerts import Purpose, area_in_scope, marac_only, screen
from hub.entrypoints.api.decisions import record_decision
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, Services, ServicesDep
from hub.entrypoints.api.errors import validation_error
from hub.services.disclosure import PolicyPoint

router = APIRouter(prefix="/v1", tags=["alerts"])

ALERT_ID = r"^[0-9a-f-]{36}$"


class Decided(BaseModel):
    alert_id: str
    action: str
    hub_id: str
    status: str  # what the alert's status becomes once the worker applies the decision


class AgendaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meeting_date: date | None = None


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


def _decide(
    services: Services, policy: PolicyPoint, principal: Principal, alert_id: str, verb: str,
    purpose: str, extra: dict[str, Any],
) -> tuple[Decided, bool]:  # fmt: skip
    """Check, audit, store the decision event; (answer, was it a repeat)."""
    alert = get_alert(services.engine, alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    area_in_scope(principal, alert.area)
    screened = screen(services, policy, principal, purpose, [alert])
    if not screened.shown:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this alert rests on events the sharing policy does not show you, so you cannot "
            "act on it: " + "; ".join(screened.refusals),
        )
    store = services.ingress.store
    pending = [e for i in lifecycle.pending_ids(alert_id, alert.revision) if (e := store.get(i))]
    mine = next((e for e in pending if e.type == lifecycle.ACTIONS[verb].event_type), None)
    now = datetime.now(UTC)
    subject = lifecycle.acting_subject(
        alert.victim_token, alert.subject_tokens, screened.triggers[alert_id]
    )
    event = lifecycle.decision_event(
        verb, alert_id, alert.revision, subject, principal.principal_id, principal.role, now, extra
    )
    if mine is not None and lifecycle.content_hash(mine) == lifecycle.content_hash(event):
        # the same person sending the same decision again (a retry): the same answer
        return Decided(
            alert_id=alert_id, action=verb, hub_id=mine.hub_id,
            status=lifecycle.ACTIONS[verb].status,
        ), True  # fmt: skip
    current, detail = lifecycle.effective_status(alert.status, alert.status_detail, pending)
    meeting = extra.get("meeting_date")
    try:
        lifecycle.check(
            verb, current, detail, None if meeting is None else date.fromisoformat(meeting)
        )
    except lifecycle.LifecycleConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    # Audited before it is stored (fail closed): acting on an alert rests on reading it.
    policy.audit(
        principal, purpose, f"POST /v1/alerts/{alert_id}/{verb}", screened.decisions,
        list(alert.subject_tokens), [alert_id, event.hub_id], ["alert_id", "status"],
        f"alert {verb}",
    )  # fmt: skip
    result = store.append(
        event, lifecycle.content_hash(event), services.settings.topic(topics.EVENTS)
    )
    if not result.stored and not result.same_content:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "someone else took this decision on this alert a moment ago; read it again",
        )
    return Decided(
        alert_id=alert_id, action=verb, hub_id=event.hub_id, status=lifecycle.ACTIONS[verb].status
    ), not result.stored  # fmt: skip


async def _decision_route(
    principal: Principal, services: Services, policy: PolicyPoint, response: Response,
    alert_id: str, verb: str, purpose: Purpose, extra: dict[str, Any],
) -> Decided:  # fmt: skip
    marac_only(principal, "act on alerts")
    return await record_decision(
        services, response,
        lambda: _decide(services, policy, principal, alert_id, verb, purpose.value, extra),
    )  # fmt: skip


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
            "responses": DECISION_RESPONSES}  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", **DECISION)  # type: ignore[arg-type]
async def acknowledge_alert(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
) -> Decided:  # fmt: skip
    """The chair or coordinator has seen the alert and holds it (a new alert only)."""
    return await _decision_route(
        principal, services, policy, response, alert_id, "acknowledge", purpose, {}
    )


@router.post("/alerts/{alert_id}/agenda", **DECISION)  # type: ignore[arg-type]
async def add_alert_to_agenda(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
    body: Annotated[AgendaIn | None, Body()] = None,
) -> Decided:  # fmt: skip
    """Put the case on the Marac agenda (the next meeting, or ``meeting_date``)."""
    meeting = None if body is None or body.meeting_date is None else body.meeting_date.isoformat()
    return await _decision_route(
        principal, services, policy, response, alert_id, "agenda", purpose,
        {"meeting_date": meeting},
    )  # fmt: skip


@router.post("/alerts/{alert_id}/dismiss", **DECISION)  # type: ignore[arg-type]
async def dismiss_alert(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep, response: Response,
    alert_id: str = AlertIdPath, purpose: Purpose = Purpose.marac_case_preparation,
    body: Annotated[DismissIn | None, Body()] = None,
) -> Decided:  # fmt: skip
    """Dismiss with a reason (required: ``{"reason": "..."}``). A dismissed alert comes back
    as new when further events meet its rule; dismissing one already dismissed is a 409 (the
    first reason stands)."""
    if body is None:  # no body at all: name the field to send, as for an empty one
        raise validation_error(("reason",), "Field required: say why", "missing")
    return await _decision_route(
        principal, services, policy, response, alert_id, "dismiss", purpose,
        {"reason": body.reason},
    )  # fmt: skip
