"""Alerts for Marac chairs and coordinators, through the policy point.

- ``GET /v1/alerts`` (here): a filtered list (area, status, rule, event-time dates);
- ``GET /v1/alerts/stream`` (alert_stream.py): new and changed alerts, live;
- ``POST /v1/alerts/{alert_id}/acknowledge | agenda | dismiss`` (alert_actions.py): the
  lifecycle, each decision stored as a hub event that the worker turns into the status.

Who sees what, on every one of them:
- Only Marac chairs and coordinators (consent.policy MARAC_ROLES). One whose principal has an
  area (``hub users add --area``) sees and acts on that area's alerts only; asking for another
  area is a 403 that says so. One without an area sees every area.
- An alert is shown only when the sharing policy lets the reader see every event that
  triggered it; otherwise it is counted as withheld, with the refusals' reasons. People are
  shown by token and, because the reader may see every triggering event, by name (from the
  sealed vault; None when it holds no name or the person was erased). So names go with every
  alert shown, and a reader who may not see all the triggers sees neither alert nor names.
- Every answer that shows alerts is audited first (503 and nothing shown if it cannot be).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.entrypoints.api.params import IsoDate
from hub.entrypoints.shared import AUDIT_UNAVAILABLE
from hub.services.access import Purpose, area_in_scope, marac_only
from hub.services.alerts import (
    AlertList,
    AlertOut,
    Status,
    alert_query,
    disclose,
    list_alerts,
)

__all__ = [
    "AUDIT_UNAVAILABLE", "AlertList", "AlertOut", "Purpose", "alert_query",
    "area_in_scope", "disclose", "marac_only",
]  # fmt: skip

router = APIRouter(prefix="/v1", tags=["alerts"])

RULE = r"^[a-z][a-z0-9_]{0,63}$"
AREA = r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$"


Area = Annotated[str | None, Query(pattern=AREA, description="a Marac area; yours if you have one")]
Rule = Annotated[str | None, Query(pattern=RULE, description="e.g. visible_high_risk")]
From = Annotated[
    IsoDate | None, Query(alias="from", description="event time on or after (UTC day)")
]
To = Annotated[IsoDate | None, Query(alias="to", description="event time on or before (UTC day)")]
StatusQ = Annotated[Status | None, Query(alias="status")]


READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only Marac chairs and coordinators, each for their own area"},
    503: {"description": "The disclosure could not be audited, so nothing is shown"},
}


@router.get(
    "/alerts", response_model=AlertList, responses=READ_RESPONSES,
    dependencies=[THROUGH_POLICY_POINT],
)  # fmt: skip
async def get_alerts(
    principal: PrincipalDep,
    services: ServicesDep,
    purpose: Purpose = Purpose.marac_case_preparation,
    area: Area = None,
    status_: StatusQ = None,
    rule: Rule = None,
    date_from: From = None,
    date_to: To = None,
    limit: int = Query(100, ge=1, le=1000),
) -> AlertList:
    """Alerts, latest event first, filtered; each shown only if the reader may see every
    event that triggered it. The disclosure is audited before the answer."""
    marac_only(principal)
    q = alert_query(principal, area, status_, rule, date_from, date_to, limit)
    return await asyncio.to_thread(list_alerts, services, principal, purpose.value, q)
