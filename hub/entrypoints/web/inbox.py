"""The alert inbox: the chair's open alerts, filtered, acted on, and updated live.

Thin like the API routes it mirrors: the list is hub.services.alerts.list_alerts (the same
screening and the same "GET /v1/alerts" audit record), each action is
hub.services.alert_decisions.decide (audited as "POST /v1/alerts/{id}/{verb}"), and the live
updates are the API stream's generator (hub/entrypoints/api/alert_stream.py) behind the
session cookie, since a browser's EventSource cannot send a bearer key.
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from hub.adapters.sql.alerts import current_revision
from hub.entrypoints.shared import PAGE, THROUGH_POLICY_POINT, ServicesDep, alert_events
from hub.entrypoints.web.rendering import PageError, call_service, page, pagination
from hub.entrypoints.web.session import FormDep, SessionDep, start_page
from hub.services.access import Purpose, marac_only
from hub.services.alert_decisions import decide
from hub.services.alerts import Status, alert_query, count_matching, list_alerts

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

PURPOSE = Purpose.marac_case_preparation.value
STATUSES = list(get_args(Status))
PER_PAGE = 50  # alerts a page lists, most urgent first; the rest are a "Next" away
MAX_PAGE = 100_000
DONE_WORDS = {
    "acknowledge": "Alert acknowledged",
    "agenda": "Case added to the next Marac agenda",
    "dismiss": "Alert dismissed",
}


def _date(raw: str | None, field: str, label: str, errors: list[dict[str, str]]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append({"field": field, "message": f"{label} must be a real date, like 2026-01-05"})
        return None


def _filters(params: dict[str, str], errors: list[dict[str, str]]) -> dict[str, Any]:
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        errors.append({"field": "status", "message": "Choose a status from the list"})
        status = None
    rule = (params.get("rule") or "").strip() or None
    if rule is not None and not rule.replace("_", "").isalnum():
        errors.append({"field": "rule", "message": "Rule names have letters, digits and _ only"})
        rule = None
    return {
        "status": status, "rule": rule,
        "date_from": _date(params.get("from"), "from", "The 'from' date", errors),
        "date_to": _date(params.get("to"), "to", "The 'to' date", errors),
    }  # fmt: skip


def _page_number(raw: str | None, errors: list[dict[str, str]]) -> int:
    if not raw:
        return 1
    if raw.isdigit() and 0 < int(raw) <= MAX_PAGE:
        return int(raw)
    errors.append({"field": "page", "message": "Page must be a whole number from 1"})
    return 1


@router.get("/")
async def home(session: SessionDep) -> Response:
    return RedirectResponse(start_page(session.principal.role), status_code=303)


@router.get("/alerts", response_class=HTMLResponse)
async def inbox(request: Request, session: SessionDep, services: ServicesDep) -> HTMLResponse:
    """Alerts for the reader's area, newest and most urgent first."""
    principal = session.principal
    params = dict(request.query_params)
    errors: list[dict[str, str]] = []
    f = _filters(params, errors)
    number = _page_number(params.get("page"), errors)
    q = await call_service(
        alert_query, principal, None, f["status"], f["rule"], f["date_from"], f["date_to"],
        PER_PAGE, (number - 1) * PER_PAGE, True,
    )  # fmt: skip
    found = await call_service(list_alerts, services, principal, PURPOSE, q)
    total = await call_service(count_matching, services, q)
    return page(
        request, "inbox.html", 400 if errors else 200, title="Alerts", nav="/alerts",
        alerts=found.alerts, found=found, params=params, statuses=STATUSES, errors=errors,
        done=DONE_WORDS.get(params.get("done", "")),
        paging=_paging(params, number, total),
    )  # fmt: skip


def _paging(params: dict[str, str], number: int, total: int) -> dict[str, Any]:
    """The inbox's pages, each link keeping the filters."""
    keep = {k: v for k, v in params.items() if k in ("rule", "status", "from", "to") and v}
    return pagination(
        number, total, PER_PAGE, lambda n: "/alerts?" + urlencode({**keep, "page": n})
    )


@router.get("/alerts/stream")
async def inbox_stream(
    request: Request, session: SessionDep, services: ServicesDep, after: int | None = None
) -> StreamingResponse:
    """The API's alert stream for the logged-in reader (same screening and audit)."""
    principal = session.principal
    await call_service(marac_only, principal)
    errors: list[dict[str, str]] = []
    f = _filters(dict(request.query_params), errors)
    q = await call_service(
        alert_query, principal, None, f["status"], f["rule"], f["date_from"], f["date_to"], PAGE
    )
    cursor = after if after is not None else await call_service(current_revision, services.engine)
    return StreamingResponse(
        alert_events(services, services.policy, principal, PURPOSE, q, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


ALERT_ID = Path(pattern=r"^[0-9a-f-]{36}$")


@router.get("/alerts/{alert_id}/dismiss", response_class=HTMLResponse)
async def dismiss_form(
    request: Request, _session: SessionDep, alert_id: str = ALERT_ID
) -> HTMLResponse:
    return page(request, "dismiss.html", title="Dismiss an alert", alert_id=alert_id, reason="")


async def _decide(
    services: ServicesDep, session: SessionDep, alert_id: str, verb: str, extra: dict[str, Any]
) -> Response:
    await call_service(decide, services, session.principal, alert_id, verb, PURPOSE, extra)
    return RedirectResponse(f"/alerts?done={verb}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    services: ServicesDep, session: SessionDep, _form: FormDep, alert_id: str = ALERT_ID
) -> Response:
    return await _decide(services, session, alert_id, "acknowledge", {})


@router.post("/alerts/{alert_id}/agenda")
async def add_to_agenda(
    services: ServicesDep, session: SessionDep, _form: FormDep, alert_id: str = ALERT_ID
) -> Response:
    return await _decide(services, session, alert_id, "agenda", {"meeting_date": None})


@router.post("/alerts/{alert_id}/dismiss")
async def dismiss(
    request: Request, services: ServicesDep, session: SessionDep, form: FormDep,
    alert_id: str = ALERT_ID,
) -> Response:  # fmt: skip
    reason = form.get("reason", "").strip()
    if len(reason) < 3:
        message = "Enter why you are dismissing this alert" if not reason else (
            "The reason must be at least 3 characters"
        )  # fmt: skip
        return page(
            request, "dismiss.html", 400, title="Dismiss an alert", alert_id=alert_id,
            reason=reason, errors=[{"field": "reason", "message": message}],
        )  # fmt: skip
    if len(reason) > 2000:
        raise PageError(422, "There is a problem", "The reason must be 2000 characters or fewer")
    return await _decide(services, session, alert_id, "dismiss", {"reason": reason})
