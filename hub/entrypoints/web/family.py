"""The family page: the whole picture on one screen (genogram, timeline, risk, markers,
needs, agencies, Marac history, alerts), from hub.services.families.family_view: the same
screening through the policy point and the same "GET /v1/families/{id}" audit record as the
API. Involvement-only items are listed as such."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from consent.policy import MARAC_ROLES
from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.family_model import filter_timeline, risk_histories
from hub.entrypoints.web.genogram import layout
from hub.entrypoints.web.rendering import PageError, call_service, page
from hub.entrypoints.web.session import SessionDep
from hub.services.access import Purpose
from hub.services.alerts import alert_query, list_alerts
from hub.services.families import FAMILY_ID, Moved, family_view

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

PURPOSE = Purpose.marac_case_preparation.value


@router.get("/families/{family_id}", response_class=HTMLResponse)
async def family_page(
    request: Request, session: SessionDep, services: ServicesDep,
    family_id: str = Path(pattern=FAMILY_ID), agency: str | None = None,
    type: str | None = None,
) -> Response:  # fmt: skip
    try:
        found = await call_service(family_view, services, session.principal, PURPOSE, family_id)
    except PageError as exc:
        if exc.status != 403:
            raise
        # another area's family (the refusal is audited): the page does not say it exists
        raise PageError(
            404, "Page not found", "There is no family with this reference that you can open."
        ) from None
    if isinstance(found, Moved):
        return RedirectResponse(f"/families/{found.merged_into}", status_code=307)
    members = found.members
    names = {
        pid: next((n["name"] for n in m.get("names", {}).values() if n and n.get("name")), None)
        for pid, m in members.items()
    }
    alerts = []
    if session.principal.role in MARAC_ROLES:  # alerts go to Marac chairs and coordinators
        q = await call_service(alert_query, session.principal, None, None, None, None, None, 100)
        listed = await call_service(
            list_alerts, services, session.principal, PURPOSE, replace(q, family_id=family_id)
        )
        alerts = listed.alerts
    genogram = layout(members, found.relations)
    label = {p.person_id: p.name for p in genogram.people}
    return page(
        request, "family.html", title="Family", nav="/alerts", family=found,
        genogram=genogram, label=label, names=names,
        risks=risk_histories(found.timeline),
        timeline=filter_timeline(found.timeline, agency, type),
        agencies_seen=sorted({e["agency_id"] for e in found.timeline}),
        types_seen=sorted({e["type"] for e in found.timeline}),
        agency=agency or "", type=type or "", alerts=alerts,
    )  # fmt: skip
