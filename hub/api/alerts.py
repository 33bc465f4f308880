"""GET /v1/alerts: Marac chairs and coordinators read alerts; each read is audited first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from audit.chain import AuditError
from hub.api.deps import PrincipalDep, ServicesDep
from hub.store.readmodels import list_alerts

router = APIRouter(prefix="/v1", tags=["alerts"])

ALERT_READERS = frozenset({"marac_chair", "marac_coordinator"})


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
    audit_record_id: str | None


def disclosure_record(
    principal: Any, purpose: Purpose, shown: list[dict[str, Any]], action: str
) -> dict[str, Any]:
    """What the audit log keeps about one disclosure: who, what, why, on what basis, when."""
    return {
        "time": datetime.now(UTC).isoformat(),
        "action": action,
        "principal_id": principal.principal_id,
        "principal_kind": principal.kind,
        "role": principal.role,
        "agency_id": principal.agency_id,
        "purpose": purpose.value,
        "subjects": sorted({t for a in shown for t in a["subject_tokens"]}),
        "fields": sorted(AlertOut.model_fields),
        "lawful_bases": sorted({a["lawful_basis"] for a in shown if a["lawful_basis"]}),
        "items": sorted(a["alert_id"] for a in shown),
        "outcome": "disclosed",
    }


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
    purpose: Purpose = Purpose.marac_case_preparation,
    status_: str | None = Query(None, alias="status", pattern="^(new)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> AlertList:
    """Alerts, newest first. The disclosure is written to the audit log before the answer."""
    if principal.kind != "person" or principal.role not in ALERT_READERS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role '{principal.role}' may not read alerts; alerts go to Marac chairs and "
            "coordinators",
        )
    shown = await asyncio.to_thread(list_alerts, services.engine, status_, limit)
    record_id = None
    if shown:
        body = disclosure_record(principal, purpose, shown, "GET /v1/alerts")
        try:
            record = await asyncio.to_thread(services.audit.append, body)
        except AuditError:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the audit log cannot be written just now, so nothing is shown; try again "
                "shortly and tell the hub's administrator if it persists",
            ) from None
        record_id = record.record_id
    return AlertList(alerts=[AlertOut(**a) for a in shown], audit_record_id=record_id)
