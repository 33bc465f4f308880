"""The IG officer's pages about people: finding a person's subject tokens by name or identifier
(officers named in HUB_IG_NAME_RESOLVERS only), a subject's consent records, and the queue of
access requests with grant / refuse and a reason.

Thin like hub/entrypoints/web/ig.py: each page calls one hub.services.ig_people use case,
which refuses (audited) anyone but an IG officer and records what the officer looked at.
The name and identifiers travel in a POST form, never in an address, so they reach no access
log, browser history or audit record.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.admin import attempt
from hub.entrypoints.web.ig import subject_param
from hub.entrypoints.web.rendering import call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services import ig, ig_people
from hub.services.access_requests import DecisionIn

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

FIND_FIELDS = (
    ("name", "Full name", ""), ("date_of_birth", "Date of birth", "For example, 1990-01-31"),
    ("postcode", "Postcode", ""), ("nhs_number", "NHS number", "10 digits"),
    ("pnc_id", "PNC id", ""), ("local_authority_id", "Local authority id", ""),
)  # fmt: skip


@router.get("/ig/find", response_class=HTMLResponse)
async def find_form(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    await call_service(ig.ig_query, services, session.principal, "GET /ig/find")
    allowed = ig_people.may_resolve_names(services, session.principal)
    return page(request, "ig_find.html", title="Find a person", nav="/ig/subjects",
                fields=FIND_FIELDS, values={}, allowed=allowed, found=None)  # fmt: skip


@router.post("/ig/find", response_class=HTMLResponse)
async def find_person(
    request: Request, session: SessionDep, services: ServicesDep, form: FormDep
) -> Response:
    """The subject tokens of the person named; each links to their disclosures and reports."""
    values = {name: (form.get(name) or "").strip() for name, _label, _hint in FIND_FIELDS}
    errors: list[dict[str, str]] = []
    found: list[str] | None = None
    try:
        who = ig_people.PersonToFind(**{k: v or None for k, v in values.items()})
    except ValidationError as exc:
        fields = [str(e["loc"][0]) for e in exc.errors()]
        errors = [{"field": f, "message": f"Check the {f.replace('_', ' ')}: {e['msg']}"}
                  for f, e in zip(fields, exc.errors(), strict=True)]  # fmt: skip
    else:
        found, errors = await attempt(ig_people.find_person, services, session.principal, who)
        errors = [e | {"field": "name"} if e["field"] == "reason" else e for e in errors]
    return page(
        request, "ig_find.html", 400 if errors else 200, title="Find a person",
        nav="/ig/subjects", fields=FIND_FIELDS, values=values, allowed=True, found=found,
        errors=errors,
    )  # fmt: skip


@router.get("/ig/consent", response_class=HTMLResponse)
async def consent_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """A subject's consent records and withdrawals: what each covers and since when."""
    errors: list[dict[str, str]] = []
    token = subject_param(request, errors)
    records = None
    if not token or errors:  # the form alone: still IG officers only, still on the log
        await call_service(ig.ig_query, services, session.principal, "GET /ig/consent")
    else:
        records = await call_service(ig_people.consents, services, session.principal, token)
    return page(
        request, "ig_consent.html", 400 if errors else 200, title="Consent",
        nav="/ig/consent", token=token, records=records, errors=errors,
    )  # fmt: skip


@router.get("/ig/requests", response_class=HTMLResponse)
async def requests_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """Every access request: open ones first, each with grant / refuse and a reason."""
    queue = await call_service(ig_people.request_queue, services, session.principal)
    return page(request, "ig_requests.html", title="Access requests", nav="/ig/requests",
                queue=queue, answered=request.query_params.get("answered"),
                failed=None, reason="")  # fmt: skip


@router.post("/ig/requests/{request_id}", response_class=HTMLResponse)
async def answer_request(
    request: Request, request_id: str, session: SessionDep, services: ServicesDep, form: FormDep
) -> Response:
    decision, reason = form.get("decision", ""), (form.get("reason") or "").strip()
    errors = []
    if decision not in ("grant", "refuse"):
        errors.append({"field": f"decision-{request_id}", "message": "Choose grant or refuse"})
    if len(reason) < 3:
        errors.append({"field": f"reason-{request_id}", "message": "Give the reason for the "
                       "answer (at least 3 characters); the requester sees it"})  # fmt: skip
    if not errors:
        body = DecisionIn(grant=decision == "grant", reason=reason[:1000])
        await call_service(ig_people.answer_request, services, session.principal, request_id,
                           body)  # fmt: skip
        return RedirectResponse(f"/ig/requests?answered={request_id}", status_code=303)
    queue = await call_service(ig_people.request_queue, services, session.principal)
    return page(request, "ig_requests.html", 400, title="Access requests", nav="/ig/requests",
                queue=queue, answered=None, failed=request_id, reason=reason,
                errors=errors)  # fmt: skip
