"""GET /v1/alerts/stream: new and changed alerts pushed live as server-sent events (the
generator, shared with the inbox page, and its cursor are in hub/entrypoints/shared.py).
Roles, area, filters, policy and audit as GET /v1/alerts (see hub/entrypoints/api/alerts.py).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from hub.adapters.sql.alerts import current_revision
from hub.entrypoints.api.alerts import (
    READ_RESPONSES,
    Area,
    From,
    Purpose,
    Rule,
    StatusQ,
    To,
    alert_query,
    marac_only,
)  # fmt: skip
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, ServicesDep
from hub.entrypoints.shared import PAGE, alert_events, sse

__all__ = ["PAGE", "alert_events", "router", "sse"]

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses={
        **READ_RESPONSES,
        200: {
            "description": "text/event-stream: `alert` events (JSON of an alert, id = its "
            "revision), `withheld` (how many the policy kept back), `error` (then the end)",
            "content": {"text/event-stream": {}},
        },
    },
)
async def stream_alerts(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    purpose: Purpose = Purpose.marac_case_preparation,
    area: Area = None,
    status_: StatusQ = None,
    rule: Rule = None,
    date_from: From = None,
    date_to: To = None,
    after: int | None = Query(None, ge=0, description="start after this revision"),
    # a plain string in the document (not "string or null"): absent or empty means none
    last_event_id: str = Header("", alias="Last-Event-ID", pattern=r"^(\d{1,18})?$"),
) -> StreamingResponse:
    """New and changed alerts as server-sent events, after the revision in Last-Event-ID (a
    reconnecting client), else ``after`` (e.g. the ``revision`` of a GET /v1/alerts answer),
    else from now. A status filter applies to each alert's status after the change."""
    marac_only(principal)
    q = alert_query(principal, area, status_, rule, date_from, date_to, PAGE)
    if last_event_id:
        cursor = int(last_event_id)
    elif after is not None:
        cursor = after
    else:
        cursor = await asyncio.to_thread(current_revision, services.engine)
    return StreamingResponse(
        alert_events(services, policy, principal, purpose.value, q, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
