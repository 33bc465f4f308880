"""GET /v1/alerts: Marac chairs and coordinators read alerts, through the policy point."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from audit.chain import AuditError
from consent.policy import MARAC_ROLES
from hub.api.deps import PolicyDep, PrincipalDep, ServicesDep
from hub.store.readmodels import list_alerts

router = APIRouter(prefix="/v1", tags=["alerts"])


class Purpose(StrEnum):
    marac_case_preparation = "marac_case_preparation"
    marac_meeting = "marac_meeting"
    safeguarding_review = "safeguarding_review"


class AlertOut(BaseModel):
    alert_id: str
    rule: str
    victim_token: str
    subject_tokens: list[str]
    triggering_event_ids: list[str]
    event_time: datetime
    raised_at: datetime
    reason: str
    recommended_action: str
    lawful_basis: str | None
    status: str


class AlertList(BaseModel):
    alerts: list[AlertOut]
    withheld: int
    audit_record_id: str | None


AUDIT_UNAVAILABLE = (
    "the audit log cannot be written just now, so nothing is shown; try again shortly and "
    "tell the hub's administrator if it persists"
)


def audit_unavailable() -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, AUDIT_UNAVAILABLE)


@router.get(
    "/alerts",
    response_model=AlertList,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Only Marac chairs and coordinators read alerts"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
)
async def get_alerts(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    purpose: Purpose = Purpose.marac_case_preparation,
    status_: str | None = Query(None, alias="status", pattern="^(new)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> AlertList:
    """Alerts, newest first. Each is shown only if the sharing policy lets this reader see
    every event that triggered it; the disclosure is audited before the answer."""
    if principal.kind != "person" or principal.role not in MARAC_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role '{principal.role}' may not read alerts; alerts go to Marac chairs and "
            "coordinators",
        )
    rows = await asyncio.to_thread(list_alerts, services.engine, status_, limit)
    shown, decisions = await asyncio.to_thread(_decide, services, policy, principal, purpose, rows)
    record_id = None
    if shown:
        try:
            record_id = await asyncio.to_thread(
                policy.audit, principal, purpose.value, "GET /v1/alerts", decisions,
                [t for a in shown for t in a["subject_tokens"]],
                [a["alert_id"] for a in shown], sorted(AlertOut.model_fields),
            )  # fmt: skip
        except AuditError:
            raise audit_unavailable() from None
    return AlertList(
        alerts=[AlertOut(**a) for a in shown], withheld=len(rows) - len(shown),
        audit_record_id=record_id,
    )  # fmt: skip


def _decide(
    services: Any, policy: Any, principal: Any, purpose: Purpose, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Any]]:
    store = services.ingress.store
    shown, decisions = [], []
    for alert in rows:
        triggers = [e for i in alert["triggering_event_ids"] if (e := store.get(i)) is not None]
        verdicts = policy.decide(principal, purpose.value, triggers)
        if triggers and all(d.shared for d in verdicts):
            shown.append(alert)
            decisions.extend(verdicts)
    return shown, decisions
