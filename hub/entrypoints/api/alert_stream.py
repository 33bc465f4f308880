"""GET /v1/alerts/stream: new and changed alerts pushed live as server-sent events.

The cursor is the alerts table's ``revision`` (each change takes the next one): an ``alert``
event's id is its revision, so a client that reconnects with ``Last-Event-ID`` misses nothing
and gets nothing twice. The table is polled (the worker writes it from another process);
a comment goes out when the stream has been quiet a while, so proxies keep it open. Roles,
area, filters, policy and audit as GET /v1/alerts (see hub/entrypoints/api/alerts.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from audit.chain import AuditError
from hub.adapters.sql.alerts import AlertQuery, changes_since, current_revision
from hub.adapters.sql.principals import Principal
from hub.entrypoints.api.alerts import (
    AUDIT_UNAVAILABLE,
    READ_RESPONSES,
    Area,
    From,
    Purpose,
    Rule,
    StatusQ,
    To,
    alert_query,
    disclose,
    marac_only,
    screen,
)  # fmt: skip
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, Services, ServicesDep
from hub.services.disclosure import PolicyPoint

router = APIRouter(prefix="/v1", tags=["alerts"])

# How often the stream looks for changes, and after how long quiet it sends a comment.
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
# Most alerts read per poll (a backlog after a long disconnect comes in pages).
PAGE = 100


def sse(event: str | None, data: Any, event_id: int | None = None) -> str:
    """One server-sent event (data as one line of JSON)."""
    lines = [] if event is None else [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'), default=str)}")
    return "\n".join(lines) + "\n\n"


async def alert_events(
    services: Services, policy: PolicyPoint, principal: Principal, purpose: str,
    q: AlertQuery, cursor: int,
) -> AsyncIterator[str]:  # fmt: skip
    """Changed alerts after ``cursor`` as they appear, each audited before it is sent. Ends
    when the client goes (the server cancels this generator) or the audit log fails."""
    yield f"retry: 2000\n: alerts after revision {cursor}\n\n"
    quiet_since = time.monotonic()
    while True:
        changed, cursor = await asyncio.to_thread(changes_since, services.engine, cursor, q)
        if changed:
            screened = await asyncio.to_thread(
                screen, services, policy, principal, purpose, changed
            )
            try:
                shown, _ = await asyncio.to_thread(
                    disclose, services, policy, principal, purpose, "GET /v1/alerts/stream",
                    screened,
                )  # fmt: skip
            except AuditError:
                yield sse("error", {"detail": AUDIT_UNAVAILABLE})
                return
            for alert in shown:
                yield sse("alert", alert.model_dump(mode="json"), alert.revision)
            if len(shown) < len(changed):
                withheld = {"count": len(changed) - len(shown), "refusals": screened.refusals}
                yield sse("withheld", withheld)
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)  # the poll interval: the worker writes elsewhere


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
