"""GET /v1/ig/…: IG officers query the audit log. Each query is audited before the answer
(fail closed: 503 if it cannot be), through the policy point like every other read; anyone
else is refused, and the refusal is audited (hub.services.ig, shared with the pages)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Response

from audit.ig import SAR_COLUMNS, Criteria
from audit.igstore import IgReports
from hub.adapters.sql.principals import Principal
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, ServicesDep
from hub.entrypoints.api.params import IsoDateTime
from hub.services import ig
from hub.services.disclosure import PolicyPoint

router = APIRouter(prefix="/v1/ig", tags=["information governance"])

TOKEN = r"^st_[a-z2-7]{32}$"
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only IG officers query the audit log"},
    503: {"description": "The query could not be audited, so nothing is shown"},
}


async def _audited(
    services: Any, _policy: PolicyPoint, principal: Principal, action: str,
    subjects: list[str] | None = None, fields: list[str] | None = None,
) -> IgReports:  # fmt: skip
    """hub.services.ig's gate (refusals audited, the query recorded first); the reports."""
    await asyncio.to_thread(ig.ig_query, services, principal, action, subjects or [], fields or [])
    return ig.reports(services)


@router.get("/disclosures", responses=RESPONSES)
async def get_disclosures(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    subject: str | None = Query(None, pattern=TOKEN),
    principal_id: str | None = Query(None, alias="principal"),
    agency: str | None = None,
    purpose: str | None = None,
    basis: str | None = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> list[dict[str, Any]]:
    """Audit records matching every filter given (since inclusive, until exclusive)."""
    reports = await _audited(
        services, policy, principal, "GET /v1/ig/disclosures", [subject] if subject else []
    )
    criteria = Criteria(subject, principal_id, agency, purpose, basis, since, until)
    return await asyncio.to_thread(reports.disclosures, criteria)


@router.get("/subjects/{token}/report", responses=RESPONSES)
async def get_subject_access_report(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    token: str = Path(pattern=TOKEN),
    format_: Literal["json", "csv"] = Query("json", alias="format"),
) -> Any:
    """The subject access report: who (role, agency), when, which fields, why, on which
    basis, consent status and overrides, for every record naming this subject."""
    reports = await _audited(
        services, policy, principal, f"GET /v1/ig/subjects/{token}/report", [token],
        list(SAR_COLUMNS),
    )  # fmt: skip
    if format_ == "csv":
        text = await asyncio.to_thread(reports.subject_access_csv, token)
        return Response(text, media_type="text/csv; charset=utf-8")
    return await asyncio.to_thread(reports.subject_access_report, token)


@router.get("/overrides", responses=RESPONSES)
async def get_overrides(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep,
    since: IsoDateTime | None = None, until: IsoDateTime | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Records that shared without consent under DPA 2018 Sch 1 para 18."""
    reports = await _audited(services, policy, principal, "GET /v1/ig/overrides")
    return await asyncio.to_thread(reports.overrides, Criteria(since=since, until=until))


@router.get("/outside-case", responses=RESPONSES)
async def get_outside_case(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep,
    since: IsoDateTime | None = None, until: IsoDateTime | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Disclosures about subjects who had no open case at the time."""
    reports = await _audited(services, policy, principal, "GET /v1/ig/outside-case")
    return await asyncio.to_thread(reports.outside_case, Criteria(since=since, until=until))


@router.get("/anomalies", responses=RESPONSES)
async def get_anomalies(
    principal: PrincipalDep, services: ServicesDep, policy: PolicyDep,
    since: IsoDateTime | None = None, until: IsoDateTime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Principals far above their role's peers; repeated reads without an open case."""
    reports = await _audited(services, policy, principal, "GET /v1/ig/anomalies")
    return await asyncio.to_thread(reports.anomalies, Criteria(since=since, until=until))
