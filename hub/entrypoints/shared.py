"""What the API routes and the people's pages share, so neither imports the other: the
services and policy-point dependencies, the audit-unavailable message, and the live alert
stream (server-sent events) that GET /v1/alerts/stream and the inbox page both serve.

The stream's cursor is the alerts table's ``revision`` (each change takes the next one): an
``alert`` event's id is its revision, so a client that reconnects with ``Last-Event-ID``
misses nothing and gets nothing twice. The table is polled (the worker writes it from another
process); a comment goes out when the stream has been quiet a while, so proxies keep it open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request

from audit.chain import AuditError
from hub.adapters.sql.alerts import AlertQuery, changes_since
from hub.adapters.sql.principals import Principal
from hub.bootstrap import Services
from hub.services.alerts import disclose, screen_alerts
from hub.services.disclosure import PolicyPoint

AUDIT_UNAVAILABLE = (
    "the audit log cannot be written just now, so nothing is shown; try again shortly and "
    "tell the hub's administrator if it persists"
)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_policy_point(services: ServicesDep) -> PolicyPoint:
    """The one policy decision and enforcement point: a route or page that shows personal
    information takes this dependency (a test checks every route)."""
    return services.policy


PolicyDep = Annotated[PolicyPoint, Depends(get_policy_point)]
# For a route whose service reads through services.policy: it still declares the policy
# point, so the test that enumerates routes showing personal information sees it.
THROUGH_POLICY_POINT = Depends(get_policy_point)


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
                screen_alerts, services, policy, principal, purpose, changed
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
