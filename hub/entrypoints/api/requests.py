"""Access requests: a practitioner who sees "involvement only" asks the holding agency (or a
Marac chair) for more; the answer is recorded, and both steps are audited
(hub/services/access_requests.py)."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services import access_requests
from hub.services.access_requests import (
    DecisionIn,
    RequestIn,
    RequestOut,
    open_request,
    visible_requests,
)

router = APIRouter(prefix="/v1", tags=["access requests"], dependencies=[THROUGH_POLICY_POINT])


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestOut)
async def request_more(
    body: RequestIn, principal: PrincipalDep, services: ServicesDep
) -> RequestOut:
    """Ask the agency holding these events to let you see more than involvement."""
    return await run_in_threadpool(open_request, services, principal, body)


@router.get("/requests", response_model=list[RequestOut])
async def list_requests(principal: PrincipalDep, services: ServicesDep) -> list[RequestOut]:
    """Your own requests, those addressed to your agency, and (Marac) every open one."""
    return await run_in_threadpool(visible_requests, services, principal)


@router.post("/requests/{request_id}/decision", response_model=RequestOut)
async def decide_request(
    request_id: str, body: DecisionIn, principal: PrincipalDep, services: ServicesDep
) -> RequestOut:
    """Grant or refuse: the holding agency's practitioners or a Marac chair or coordinator."""
    return await run_in_threadpool(
        access_requests.decide_request, services, principal, request_id, body
    )
