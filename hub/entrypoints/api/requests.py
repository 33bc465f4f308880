"""Access requests: a practitioner who sees "involvement only" asks the holding agency (or a
Marac chair) for more; the answer is recorded, and both steps are audited."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from audit.chain import AuditError
from consent.policy import MARAC_ROLES, PERSON_ROLES
from hub.adapters.sql.principals import Principal
from hub.entrypoints.api.alerts import Purpose, audit_unavailable
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, ServicesDep

router = APIRouter(prefix="/v1", tags=["access requests"])


class RequestIn(BaseModel):
    subject: str = Field(pattern=r"^st_[a-z2-7]{32}$")
    items: list[str] = Field(min_length=1, max_length=100, description="hub ids of the events")
    purpose: Purpose
    reason: str = Field(
        min_length=10, max_length=1000, description="Why you need more (no names, please)"
    )


class DecisionIn(BaseModel):
    grant: bool
    reason: str = Field(min_length=3, max_length=1000)


class RequestOut(BaseModel):
    request_id: str
    status: str
    holding_agency: str
    items: list[str]
    subject: str
    purpose: str
    requester_role: str
    requester_agency: str | None
    reason: str
    decision_reason: str | None = None


def _practitioner(principal: Principal) -> None:
    if principal.kind != "person" or principal.role in PERSON_ROLES or not principal.agency_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "requests for more are made by practitioners acting for an agency",
        )


async def _audited(policy: Any, principal: Principal, purpose: str, action: str, subject: str,
                   items: list[str]) -> None:  # fmt: skip
    try:
        await asyncio.to_thread(
            policy.audit, principal, purpose, action, [], [subject], items, [], action
        )
    except AuditError:
        raise audit_unavailable() from None


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestOut)
async def request_more(
    body: RequestIn, principal: PrincipalDep, services: ServicesDep, policy: PolicyDep
) -> RequestOut:
    """Ask the agency holding these events to let you see more than involvement."""
    _practitioner(principal)
    store = services.ingress.store
    held = [await asyncio.to_thread(store.get, i) for i in body.items]
    if any(e is None or body.subject not in {s.token for s in e.subjects} for e in held):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "every item must be an event about the subject"
        )
    holders = {e.agency_id for e in held if e is not None}
    if len(holders) != 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"these items are held by {len(holders)} agencies; ask each one separately",
        )
    await _audited(policy, principal, body.purpose.value, "access requested", body.subject,
                   body.items)  # fmt: skip
    req = await asyncio.to_thread(
        policy.requests.open, requester_id=principal.principal_id, requester_role=principal.role,
        requester_agency=principal.agency_id, subject=body.subject, items=body.items,
        holding_agency=holders.pop(), purpose=body.purpose.value, reason=body.reason,
    )  # fmt: skip
    return RequestOut(**req.view())


@router.get("/requests", response_model=list[RequestOut])
async def list_requests(principal: PrincipalDep, policy: PolicyDep) -> list[RequestOut]:
    """Your own requests, those addressed to your agency, and (Marac) every open one."""
    if principal.kind != "person":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "agency systems send events; people read")
    found = await asyncio.to_thread(
        policy.requests.visible_to, principal.principal_id, principal.agency_id,
        principal.role in MARAC_ROLES,
    )  # fmt: skip
    for r in found:
        await _audited(policy, principal, r.purpose, "access requests listed", r.subject,
                       [r.request_id])  # fmt: skip
    return [RequestOut(**r.view()) for r in found]


@router.post("/requests/{request_id}/decision", response_model=RequestOut)
async def decide_request(
    request_id: str, body: DecisionIn, principal: PrincipalDep, policy: PolicyDep
) -> RequestOut:
    """Grant or refuse: the holding agency's practitioners or a Marac chair or coordinator."""
    req = await asyncio.to_thread(policy.requests.get, request_id)
    if req is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no access request {request_id}")
    holder = principal.kind == "person" and principal.agency_id == req.holding_agency
    if not (holder or principal.role in MARAC_ROLES):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"only {req.holding_agency}'s practitioners or a Marac chair may answer this request",
        )
    action = "access granted" if body.grant else "access refused"
    await _audited(policy, principal, req.purpose, action, req.subject, list(req.items))
    if not await asyncio.to_thread(
        policy.requests.decide, request_id, body.grant, principal.principal_id, body.reason
    ):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"request {request_id} was already {req.status}"
        )
    decided = await asyncio.to_thread(policy.requests.get, request_id)
    assert decided is not None
    return RequestOut(**decided.view())
