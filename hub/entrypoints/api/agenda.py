"""GET /v1/marac/agenda?area=X[&since=date]: the cases for the area's next Marac meeting
(hub/domain/agenda.py says which and why), with repeats flagged, the agencies involved, open actions
and their owners, and research prompts per agency (hub/data/research_prompts.toml).

Marac chairs and coordinators only, with the area rule of GET /v1/alerts (their own area when
they have one). Which families: those with an alert routed to the area, and those of every
referral to Marac since the last meeting whose victim's area (hub.domain.areas victim_area)
is this one. A case is shown only when the sharing policy lets the reader see every event it
rests on (its alerts' triggers and its referrals); then the victim's name is shown too. The
mini-plan and open actions say which agencies are involved, never what they hold. Audited
before the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.alerts import READ_RESPONSES, Area
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.entrypoints.api.params import IsoDate
from hub.services.access import Purpose
from hub.services.agenda import Agenda, agenda_for

router = APIRouter(prefix="/v1/marac", tags=["marac"])


Since = Annotated[
    IsoDate | None, Query(description="list items on or after this day, not the last meeting's")
]


@router.get(
    "/agenda", response_model=Agenda, responses=READ_RESPONSES,
    dependencies=[THROUGH_POLICY_POINT],
)  # fmt: skip
async def get_agenda(
    principal: PrincipalDep,
    services: ServicesDep,
    area: Area = None,
    since: Since = None,
    purpose: Purpose = Purpose.marac_meeting,
) -> Agenda:
    """The cases for the area's next Marac meeting, each shown only if the reader may see
    every event it rests on; audited before the answer."""
    return await run_in_threadpool(agenda_for, services, principal, purpose.value, area, since)
