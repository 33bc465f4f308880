"""GET /v1/subjects/{token}/events: what the hub holds about a person, as the reader's role
may see it, through the policy point (hub/services/subjects.py)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services.access import Purpose
from hub.services.subjects import SubjectEvents, subject_events

router = APIRouter(prefix="/v1", tags=["subjects"])


@router.get(
    "/subjects/{token}/events",
    response_model=SubjectEvents,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Agency systems send events; people read them"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_subject_events(
    principal: PrincipalDep,
    services: ServicesDep,
    token: str = Path(pattern=r"^st_[a-z2-7]{32}$"),
    purpose: Purpose = Purpose.marac_case_preparation,
    override_reason: str | None = Query(
        None, description="Share without consent under DPA 2018 Sch 1 para 18: the reason"
    ),
    justification: str | None = Query(None, description="Why, in words (required with a reason)"),
) -> SubjectEvents:
    """The events held about this subject, each filtered to the fields the sharing policy
    allows this reader for this purpose; refused items are counted, not shown."""
    return await run_in_threadpool(
        subject_events, services, principal, purpose.value, token, override_reason, justification
    )
