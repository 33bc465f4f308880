"""The family view and a subject's family, through the policy point.

``GET /v1/families/{family_id}``: members and relations (a genogram, with previous partners
and children), the timeline, current risk, markers, needs, the agencies involved (the
mini-plan), Marac history and open actions, alert decisions, and the counts the rules use.

What each reader sees is decided event by event, on the stored event under each timeline
entry (hub/services/disclosure.py):
- an entry the policy shares with its subjects and time (views full, summary, marker_since)
  is shown with the facts that view allows (all of them for "full");
- an entry shared as "involvement only" is listed apart, as the policy's view has it:
  agency, event type and hub id, with no time, people or facts (a reader may ask the
  holding agency for more with its hub id: /v1/requests);
- a refused entry is counted as withheld, with the refusal's reason.
Every derived view is computed again from the shown entries only (the family projection is
rebuilt from them with hub.domain.family), so nothing of a withheld event leaks through
members, relations, risk or counts. Names and dates of birth (from the sealed vault) are
shown to Marac chairs and coordinators only. The disclosure is audited before the answer.

A family id that a merge retired answers ``307 Temporary Redirect`` to the family it is part
of now, with a JSON body naming it (``merged_into``): temporary, because undoing a wrong
match splits the family and gives the old id back.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services.access import Purpose
from hub.services.families import (
    FAMILY_ID,
    TOKEN,
    FamilyOut,
    Moved,
    SubjectFamily,
    family_view,
    subject_family,
)

router = APIRouter(prefix="/v1", tags=["families"])


@router.get(
    "/families/{family_id}",
    response_model=FamilyOut,
    responses={
        307: {"description": "The family was merged into another; Location names it"},
        401: {"description": "No valid API key"},
        403: {"description": "Agency systems send events; people read them"},
        404: {"description": "No such family"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_family(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    family_id: str = Path(pattern=FAMILY_ID),
    purpose: Purpose = Purpose.marac_case_preparation,
) -> Any:
    """The family as this reader may see it (see the module docstring)."""
    found = await run_in_threadpool(family_view, services, principal, purpose.value, family_id)
    if isinstance(found, Moved):
        query = f"?{request.url.query}" if request.url.query else ""
        return JSONResponse(
            {
                "detail": f"family {family_id} was merged into {found.merged_into}",
                "family_id": family_id,
                "merged_into": found.merged_into,
            },
            status_code=status.HTTP_307_TEMPORARY_REDIRECT,
            headers={"Location": f"/v1/families/{found.merged_into}{query}"},
        )
    return found


@router.get(
    "/subjects/{token}/family",
    response_model=SubjectFamily,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Agency systems send events; people read them"},
        404: {"description": "The hub knows nothing about this subject that you may see"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_subject_family(
    principal: PrincipalDep,
    services: ServicesDep,
    token: str = Path(pattern=TOKEN),
    purpose: Purpose = Purpose.marac_case_preparation,
) -> SubjectFamily:
    """The current family id of a subject: answered when the reader may see at least one
    event naming the subject (any view), and audited."""
    return await run_in_threadpool(subject_family, services, principal, purpose.value, token)
