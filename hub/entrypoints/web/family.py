"""The family page: the whole picture on one screen (genogram, timeline, risk, markers,
needs, agencies, Marac history, support and outcomes, alerts), from
hub.services.families.family_view: the same screening through the policy point and the same
"GET /v1/families/{id}" audit record as the API. Involvement-only items are listed as such."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from consent.policy import MARAC_ROLES
from hub.domain.family.cases import OUTCOME_WORDS, REASON_WORDS
from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.family_model import (
    filter_timeline,
    risk_histories,
    shown_facts,
    support_rows,
)
from hub.entrypoints.web.genogram import layout
from hub.entrypoints.web.rendering import PageError, call_service, page, pagination
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.access import Purpose
from hub.services.access_requests import request_more_of_item
from hub.services.alerts import alert_query, list_alerts
from hub.services.families import FAMILY_ID, Moved, family_view

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

PURPOSE = Purpose.marac_case_preparation.value
HUB_ID = Path(pattern=r"^[0-9a-f-]{36}$")
TIMELINE_PAGE = 100  # timeline entries a page shows, newest first; older ones a link away


def _timeline_page(
    entries: list[dict[str, Any]], raw: str | None, keep: dict[str, str]
) -> dict[str, Any]:
    """One page of the (filtered) timeline, with links to newer and older entries."""
    pages = max(1, -(-len(entries) // TIMELINE_PAGE))
    number = min(int(raw), pages) if raw and raw.isdigit() and int(raw) > 0 else 1
    kept = {k: v for k, v in keep.items() if v}
    paging = pagination(
        number, len(entries), TIMELINE_PAGE,
        lambda n: "?" + urlencode({**kept, "page": n}) + "#timeline",
    )  # fmt: skip
    shown = entries[paging["first"] - 1 : paging["last"]]
    return {
        # the entries are the family view's (shared, read only): each row gets its own dict
        "timeline": [{**e, "shown_facts": shown_facts(e["facts"])} for e in shown],
        "timeline_paging": paging,
    }


@router.get("/families/{family_id}", response_class=HTMLResponse)
async def family_page(
    request: Request, session: SessionDep, services: ServicesDep,
    family_id: str = Path(pattern=FAMILY_ID), agency: str | None = None,
    type: str | None = None, page_number: str | None = Query(None, alias="page"),
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
        cases=[(c, support_rows(c)) for c in found.cases],
        reasons=REASON_WORDS, outcomes=OUTCOME_WORDS,
        **_timeline_page(filter_timeline(found.timeline, agency, type), page_number,
                         {"agency": agency or "", "type": type or ""}),
        agencies_seen=sorted({e["agency_id"] for e in found.timeline}),
        types_seen=sorted({e["type"] for e in found.timeline}),
        agency=agency or "", type=type or "", alerts=alerts,
        requested=request.query_params.get("requested"),
    )  # fmt: skip


def _request_form(
    request: Request, family_id: str, hub_id: str, reason: str = "",
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:  # fmt: skip
    return page(
        request, "request_more.html", 400 if errors else 200, title="Request more",
        nav="/alerts", family_id=family_id, hub_id=hub_id, reason=reason, errors=errors or [],
    )  # fmt: skip


@router.get("/families/{family_id}/request/{hub_id}", response_class=HTMLResponse)
async def request_more_form(
    request: Request, _session: SessionDep,
    family_id: str = Path(pattern=FAMILY_ID), hub_id: str = HUB_ID,
) -> HTMLResponse:  # fmt: skip
    """Ask the holding agency for more than involvement about one item."""
    return _request_form(request, family_id, hub_id)


@router.post("/families/{family_id}/request/{hub_id}")
async def request_more(
    request: Request, session: SessionDep, services: ServicesDep, form: FormDep,
    family_id: str = Path(pattern=FAMILY_ID), hub_id: str = HUB_ID,
) -> Response:  # fmt: skip
    """The access request, through hub.services.access_requests (same checks and audit as
    POST /v1/requests); back to the family page, which says it was sent."""
    reason = form.get("reason", "").strip()
    problem = (
        "Enter why you need to see more" if not reason
        else "The reason must be at least 10 characters" if len(reason) < 10
        else "The reason must be 1000 characters or fewer" if len(reason) > 1000
        else None
    )  # fmt: skip
    if problem is not None:
        return _request_form(
            request, family_id, hub_id, reason, [{"field": "reason", "message": problem}]
        )
    sent = await call_service(
        request_more_of_item, services, session.principal, hub_id,
        Purpose.marac_case_preparation, reason,
    )  # fmt: skip
    back = f"/families/{family_id}?requested={sent.holding_agency}#involvement"
    return RedirectResponse(back, status_code=303)
