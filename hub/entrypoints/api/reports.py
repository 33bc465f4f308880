"""Reports for Marac chairs and coordinators, through the policy point: thin routes over
hub/services/reports.py (which the report pages call too).

- ``GET /v1/reports/repeat``: victims by number of linked perpetrators, perpetrators by
  number of linked victims, across families;
- ``GET /v1/reports/central-list?area=&week=``: the week's most vulnerable victims and most
  dangerous perpetrators in a Marac area;
- ``GET /v1/reports/outcomes?area=&start=&end=``: the area's outcomes over a period (figures
  only: first contact, length of support, repeat Marac referrals, action plans, actions on
  time, outcomes at exit).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.entrypoints.api.alerts import AREA
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.entrypoints.api.params import IsoDate, IsoDateTime
from hub.services.access import Purpose
from hub.services.reports import Report, central, outcomes, repeat

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[THROUGH_POLICY_POINT])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only Marac chairs and coordinators (of the area) read reports"},
    422: {"description": "A parameter is not usable; the detail says which and why"},
    503: {"description": "The disclosure could not be audited, so nothing is shown"},
}


@router.get("/repeat", response_model=Report, responses=RESPONSES)
async def get_repeat_report(
    principal: PrincipalDep,
    services: ServicesDep,
    area: str | None = Query(None, pattern=AREA, description="only families of this area"),
    min_links: int = Query(2, ge=1, le=100, description="list people with this many links"),
    as_of: Annotated[
        IsoDateTime | None, Query(description="count events before this instant")
    ] = None,
    purpose: Purpose = Purpose.marac_meeting,
) -> Report:
    """Victims by number of linked perpetrators, perpetrators by number of linked victims."""
    return await asyncio.to_thread(
        repeat, services, principal, purpose.value, area, min_links, as_of
    )


@router.get("/central-list", response_model=Report, responses=RESPONSES)
async def get_central_list(
    principal: PrincipalDep,
    services: ServicesDep,
    area: str | None = Query(None, pattern=AREA, description="the Marac area (yours if set)"),
    week: str | None = Query(
        None, max_length=10, description="ISO week (2026-W10) or a date in it; default this week"
    ),
    top: int = Query(10, ge=1, le=100, description="how many victims and perpetrators"),
    purpose: Purpose = Purpose.marac_meeting,
) -> Report:
    """The area's most vulnerable victims and most dangerous perpetrators for the week, as of
    the week's end (docs/reports.md explains the ranking)."""
    return await asyncio.to_thread(central, services, principal, purpose.value, area, week, top)


@router.get("/outcomes", response_model=Report, responses=RESPONSES)
async def get_outcomes_report(
    principal: PrincipalDep,
    services: ServicesDep,
    area: str | None = Query(None, pattern=AREA, description="the Marac area (yours if set)"),
    start: Annotated[
        IsoDate | None, Query(description="first day of the period; default a window back")
    ] = None,
    end: Annotated[
        IsoDate | None, Query(description="last day of the period; default today")
    ] = None,
    purpose: Purpose = Purpose.marac_meeting,
) -> Report:
    """The area's outcomes over the period, figures only (docs/reports.md lists the measures)."""
    return await asyncio.to_thread(outcomes, services, principal, purpose.value, area, start, end)
