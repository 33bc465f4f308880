"""GET /v1/subjects/{token}/events: what the hub holds about a person, as the reader's role
may see it, through the policy point."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel

from audit.chain import AuditError
from consent.decision import Override
from consent.policy import MARAC_ROLES
from hub.adapters.sql.events import SqlEventStore
from hub.entrypoints.api.alerts import Purpose, audit_unavailable
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, ServicesDep

router = APIRouter(prefix="/v1", tags=["subjects"])


class SubjectEvents(BaseModel):
    subject: str
    events: list[dict[str, Any]]
    withheld: int
    refusals: list[str]
    audit_record_id: str | None


@router.get(
    "/subjects/{token}/events",
    response_model=SubjectEvents,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Agency systems send events; people read them"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
)
async def get_subject_events(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    token: str = Path(pattern=r"^st_[a-z2-7]{32}$"),
    purpose: Purpose = Purpose.marac_case_preparation,
    override_reason: str | None = Query(
        None, description="Share without consent under DPA 2018 Sch 1 para 18: the reason"
    ),
    justification: str | None = Query(None, description="Why, in words (required with a reason)"),
) -> SubjectEvents:
    """The events held about this subject, each filtered to the fields the sharing policy
    allows this reader for this purpose; refused items are counted, not shown."""
    if principal.kind != "person":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "agency systems send events; people read")
    override = None
    if override_reason is not None:
        if principal.role not in MARAC_ROLES:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "only a Marac chair or coordinator may override"
            )
        try:
            override = Override(override_reason, justification or "", principal.principal_id)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    store: SqlEventStore = services.ingress.store
    held = await asyncio.to_thread(store.for_subject, token)
    decisions = await asyncio.to_thread(policy.decide, principal, purpose.value, held, override)
    shown = [policy.view(e, d) for e, d in zip(held, decisions, strict=True) if d.shared]
    record_id = None
    if held:
        try:
            record_id = await asyncio.to_thread(
                policy.audit, principal, purpose.value, f"GET /v1/subjects/{token}/events",
                decisions, [token], [d.hub_id for d in decisions if d.shared],
            )  # fmt: skip
        except AuditError:
            raise audit_unavailable() from None
    refusals = sorted({d.reason for d in decisions if not d.shared})
    return SubjectEvents(
        subject=token, events=shown, withheld=len(held) - len(shown), refusals=refusals,
        audit_record_id=record_id,
    )  # fmt: skip
