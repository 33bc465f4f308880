"""The Marac meeting: the agenda of the area's next meeting (hub.services.agenda, the same
screening and "GET /v1/marac/agenda" audit record as the API), a form per case to record the
hearing and its actions (hub.services.hearings.record_hearing: a marac.case_heard written by
the chair, audited before it is stored), and after the meeting the actions of each meeting
and each agency with their state (hub.services.hearings.area_actions).

The form works without JavaScript: it always offers ACTION_ROWS rows of actions, and blank
rows are left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.contract.payloads import ActionType
from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.rendering import PageError, call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.access import Purpose
from hub.services.agenda import Agenda, CaseOut, agenda_for
from hub.services.errors import Unusable
from hub.services.families import FAMILY_ID, TOKEN
from hub.services.hearings import HearingRecorded, area_actions, record_hearing

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

PURPOSE = Purpose.marac_meeting.value
ACTION_ROWS = 3
ACTION_FIELDS = ("owner_agency", "action", "text", "due_date")
# the guidance's list first; "housing" (unspecified) is for older agency systems only
ACTION_TYPES = [t.value for t in ActionType if t is not ActionType.housing]
RISKS = ("high", "medium", "standard")
STATE_WORDS = {
    "open": ("Open", "govuk-tag--blue"),
    "in_progress": ("In progress", "govuk-tag--yellow"),
    "done": ("Done", "govuk-tag--green"),
    "not_possible": ("Not possible", "govuk-tag--grey"),
    "overdue": ("Overdue", "govuk-tag--red"),
}
FIELD_WORDS = {
    "meeting_date": "Enter the meeting date as a real date, like 2026-03-10, not in the future",
    "risk_discussed": "Choose the risk level the meeting agreed",
    "owner_agency": "Choose the agency that owns action {n}",
    "action": "Choose the type of action {n}",
    "text": "The text of action {n} must be 500 characters or fewer",
    "due_date": "Enter the due date of action {n} as a real date, like 2026-03-24",
}


async def _agenda(services: ServicesDep, session: SessionDep, area: str | None) -> Agenda:
    try:
        return await call_service(agenda_for, services, session.principal, PURPOSE, area, None)
    except PageError as exc:
        if exc.status != 403:
            raise
        message = "There is no such Marac area you can open."
        raise PageError(404, "Page not found", message) from None


@router.get("/meeting", response_class=HTMLResponse)
async def meeting(
    request: Request, session: SessionDep, services: ServicesDep, area: str | None = None
) -> HTMLResponse:
    """The next meeting's agenda: cases, repeats flagged, research prompts per agency."""
    if area is None and session.principal.area is None:
        return page(request, "meeting.html", title="Marac meeting", nav="/meeting", agenda=None)
    agenda = await _agenda(services, session, area)
    return page(
        request, "meeting.html", title="Marac meeting", nav="/meeting", agenda=agenda,
        done=request.query_params.get("done") == "recorded",
    )  # fmt: skip


async def _case(
    services: ServicesDep, session: SessionDep, family_id: str, victim: str, area: str | None
) -> tuple[Agenda, CaseOut]:
    agenda = await _agenda(services, session, area)
    for c in agenda.cases:
        if c.family_id == family_id and c.victim_token == victim:
            return agenda, c
    raise PageError(
        404, "Page not found",
        "This case is not on your area's agenda (it may have been heard already).",
    )  # fmt: skip


def _owners(agenda: Agenda, case: CaseOut, services: ServicesDep) -> list[str]:
    area = services.areas.get(agenda.area)
    return sorted({*area.agencies, *(a["agency_id"] for a in case.agencies)} - {"hub"})


def _form_page(
    request: Request, agenda: Agenda, case: CaseOut, services: ServicesDep,
    values: dict[str, str], errors: list[dict[str, str]], status: int = 200,
) -> HTMLResponse:  # fmt: skip
    return page(
        request, "hearing.html", status, title="Record the hearing", nav="/meeting",
        case=case, area=agenda.area, owners=_owners(agenda, case, services),
        action_types=ACTION_TYPES, risks=RISKS, rows=range(1, ACTION_ROWS + 1), values=values,
        errors=errors, today=date.today().isoformat(),
    )  # fmt: skip


CASE_PATH = "/meeting/cases/{family_id}/hearing"


@router.get(CASE_PATH, response_class=HTMLResponse)
async def hearing_form(
    request: Request, session: SessionDep, services: ServicesDep,
    family_id: str = Path(pattern=FAMILY_ID), victim: str = Query(pattern=TOKEN),
    area: str | None = None,
) -> HTMLResponse:  # fmt: skip
    agenda, case = await _case(services, session, family_id, victim, area)
    return _form_page(request, agenda, case, services, {}, [])


def hearing_of(form: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The form as MaracHearing's fields, and the row number of each action kept."""
    rows, actions = [], []
    for n in range(1, ACTION_ROWS + 1):
        row = {k: form.get(f"action-{n}-{k}", "").strip() for k in ACTION_FIELDS}
        if any(row.values()):
            rows.append(n)
            actions.append({k: v for k, v in row.items() if v})
    present = sorted(k.removeprefix("present-") for k, v in form.items()
                     if k.startswith("present-") and v)  # fmt: skip
    return {
        "meeting_date": form.get("meeting_date", "").strip() or None,
        "repeat": form.get("repeat") == "yes",
        "agencies_present": present,
        "risk_discussed": form.get("risk_discussed") or None,
        "actions": actions,
    }, rows


def page_errors(exc: Unusable, rows: list[int]) -> list[dict[str, str]]:
    """The service's field errors as the form's: field id and words, first per field."""
    out: dict[str, str] = {}
    for e in exc.errors or [{"loc": ["body", "meeting_date"], "msg": str(exc)}]:
        loc = [p for p in e["loc"] if p != "body"]
        if loc and loc[0] == "actions" and len(loc) > 2 and isinstance(loc[1], int):
            n = rows[loc[1]]
            out.setdefault(f"action-{n}-{loc[2]}", FIELD_WORDS[str(loc[2])].format(n=n))
        elif loc and str(loc[0]) in FIELD_WORDS:
            out.setdefault(str(loc[0]), FIELD_WORDS[str(loc[0])])
        else:
            out.setdefault("meeting_date", str(e.get("msg", exc)))
    return [{"field": f, "message": m} for f, m in out.items()]


def _record(
    services: ServicesDep, session: SessionDep, family_id: str, victim: str,
    hearing: dict[str, Any],
) -> HearingRecorded | Unusable:  # fmt: skip
    """The service's answer, or its field errors for the form (other refusals propagate)."""
    try:
        return record_hearing(services, session.principal, PURPOSE, family_id, victim, hearing)
    except Unusable as exc:
        return exc


@router.post(CASE_PATH)
async def record(
    request: Request, session: SessionDep, services: ServicesDep, form: FormDep,
    family_id: str = Path(pattern=FAMILY_ID), victim: str = Query(pattern=TOKEN),
    area: str | None = None,
) -> Response:  # fmt: skip
    agenda, case = await _case(services, session, family_id, victim, area)
    hearing, rows = hearing_of(form)
    done = await call_service(_record, services, session, family_id, victim, hearing)
    if isinstance(done, Unusable):
        errors = page_errors(done, rows)
        return _form_page(request, agenda, case, services, form, errors, 400)
    query = f"meeting_date={done.meeting_date.isoformat()}&area={agenda.area}&done=recorded"
    return RedirectResponse(f"/meeting/actions?{query}", status_code=303)


def state_tag(state: str, overdue: bool = False) -> tuple[str, str]:
    return STATE_WORDS["overdue" if overdue else state]


@router.get("/meeting/actions", response_class=HTMLResponse)
async def actions(
    request: Request, session: SessionDep, services: ServicesDep, area: str | None = None,
    meeting_date: str | None = None, agency: str | None = None,
) -> HTMLResponse:  # fmt: skip
    """The actions of a meeting, or of an agency, with their state (overdue included)."""
    errors: list[dict[str, str]] = []
    day = None
    if meeting_date:
        try:
            day = date.fromisoformat(meeting_date)
        except ValueError:
            errors.append({"field": "meeting_date", "message": "Choose a meeting from the list"})
    if area is None and session.principal.area is None:
        return page(request, "meeting.html", title="Marac meeting", nav="/meeting", agenda=None)
    found = await call_service(
        area_actions, services, session.principal, PURPOSE, area, day, agency or None
    )
    return page(
        request, "actions.html", 400 if errors else 200, title="Marac actions", nav="/meeting",
        found=found, errors=errors, state_tag=state_tag,
        done=request.query_params.get("done") == "recorded",
    )  # fmt: skip
