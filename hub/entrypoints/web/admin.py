"""The hub administrator's pages (role ``admin``): agency systems and their keys, people and
their logins, the rules in force per area and the sharing policy per role.

Thin like the other pages: each calls hub.services.admin (the changes, shared with the `hub
agencies` / `hub users` commands) or hub.services.admin_views (the read-only views), which
refuse anyone but an administrator, audited, and write every change to the audit log with
who and why (each form has a reason). A new key or temporary password is shown once, in the
answer to the form that made it (never cached, never stored), and is not shown again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.bootstrap import administration
from hub.entrypoints.shared import ServicesDep
from hub.entrypoints.web.rendering import PageError, call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.admin import Administration
from hub.services.errors import Unusable

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
Errors = list[dict[str, str]]

DONE = {
    "revoked": "The agency's API key is revoked: it can no longer send or read",
    "signing-key": "The signing key is registered: Kafka-direct messages signed with it are "
    "accepted",
    "signing-key-revoked": "The signing key is revoked",
    "disabled": "The person is disabled: they can no longer log in, and their API key stops",
}


async def get_admin(services: ServicesDep) -> Administration:
    return administration(services)


AdminDep = Annotated[Administration, Depends(get_admin)]


def _attempt(fn: Callable[..., T], *args: Any) -> tuple[T | None, Errors]:
    """The service's answer, or the fields a person must correct (Unusable)."""
    try:
        return fn(*args), []
    except Unusable as exc:
        found = exc.errors or [{"path": "reason", "msg": str(exc)}]
        return None, [{"field": str(e["path"]), "message": str(e["msg"])} for e in found]


async def attempt(fn: Callable[..., T], *args: Any) -> tuple[T | None, Errors]:
    """call_service for a form: refusals become error pages, field errors are returned."""
    return await call_service(_attempt, fn, *args)


def done_message(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def shown_once(request: Request, title: str, what: str, secrets: list[tuple[str, str, str]],
                back: str) -> HTMLResponse:  # fmt: skip
    """The one page that shows a new key or password; nothing keeps a copy of it."""
    return page(request, "admin_secret.html", 200, title=title, what=what, secrets=secrets,
                back=back, nav=back)  # fmt: skip


# --- agency systems -------------------------------------------------------------------------


async def _agencies(
    request: Request, session: SessionDep, admin: Administration, errors: Errors,
    form: dict[str, str], status: int = 200,
) -> HTMLResponse:  # fmt: skip
    agencies = await call_service(admin.agencies, session.principal)
    return page(
        request, "admin_agencies.html", status, title="Agency systems", nav="/admin/agencies",
        agencies=agencies, types=admin.agency_types, errors=errors, form=form,
        type_options=[(t.name, t.label) for t in admin.agency_types.values()],
        done=done_message(request),
    )  # fmt: skip


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(_session: SessionDep) -> Response:
    return RedirectResponse("/admin/agencies", status_code=303)


@router.get("/admin/agencies", response_class=HTMLResponse)
async def agencies(request: Request, session: SessionDep, admin: AdminDep) -> HTMLResponse:
    """Every agency system, its state and signing keys, and the form to add one."""
    return await _agencies(request, session, admin, [], {})


@router.post("/admin/agencies", response_class=HTMLResponse)
async def add_agency(
    request: Request, session: SessionDep, admin: AdminDep, form: FormDep
) -> HTMLResponse:
    name, kind, reason = form.get("name", ""), form.get("type", ""), form.get("reason", "")
    added, errors = await attempt(admin.add_agency, session.principal, name, kind, reason)
    if added is None:
        return await _agencies(request, session, admin, errors, form, 400)
    return shown_once(
        request, f"Agency system {name.strip()} added",
        "Give this API key to the agency's system administrator now, by a secure channel. "
        "The hub keeps only a hash of it, so this page is the only time it is shown.",
        [("API key", "api-key", added[1])], "/admin/agencies",
    )  # fmt: skip


async def _agency(
    request: Request, session: SessionDep, admin: Administration, name: str, errors: Errors,
    form: dict[str, str], status: int = 200,
) -> HTMLResponse:  # fmt: skip
    found = [a for a in await call_service(admin.agencies, session.principal)
             if a.principal.name == name]  # fmt: skip
    if not found:
        raise PageError(404, "Page not found", f"There is no agency system named {name}")
    return page(
        request, "admin_agency.html", status, title=f"Agency system {name}",
        nav="/admin/agencies", agency=found[0], errors=errors, form=form,
        done=done_message(request),
    )  # fmt: skip


@router.get("/admin/agencies/{name}", response_class=HTMLResponse)
async def agency(request: Request, name: str, session: SessionDep, admin: AdminDep) -> Response:
    """One agency system: its key and signing keys, and what can be done to them."""
    return await _agency(request, session, admin, name, [], {})


@router.post("/admin/agencies/{name}/rotate-key", response_class=HTMLResponse)
async def rotate_key(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    reason = form.get("reason", "")
    key, errors = await attempt(admin.rotate_agency_key, session.principal, name, reason)
    if key is None:
        return await _agency(
            request, session, admin, name, form_errors_of(errors, "rotate"), form, 400
        )
    return shown_once(
        request, f"New API key for {name}",
        "The old key stopped working just now. Give this key to the agency's system "
        "administrator by a secure channel: it is shown only this once.",
        [("API key", "api-key", key)], f"/admin/agencies/{quote(name, safe='')}",
    )  # fmt: skip


@router.post("/admin/agencies/{name}/revoke", response_class=HTMLResponse)
async def revoke_agency(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    reason = form.get("reason", "")
    _r, errors = await attempt(admin.revoke_agency, session.principal, name, reason)
    if errors:
        return await _agency(
            request, session, admin, name, form_errors_of(errors, "revoke"), form, 400
        )
    return RedirectResponse(f"/admin/agencies/{quote(name, safe='')}?done=revoked", status_code=303)


@router.post("/admin/agencies/{name}/signing-keys", response_class=HTMLResponse)
async def add_signing_key(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    public_key, reason = form.get("public_key", "").encode(), form.get("reason", "")
    _k, errors = await attempt(admin.add_signing_key, session.principal, name, public_key, reason)
    if errors:
        return await _agency(
            request, session, admin, name, form_errors_of(errors, "key"), form, 400
        )
    return RedirectResponse(
        f"/admin/agencies/{quote(name, safe='')}?done=signing-key", status_code=303
    )


@router.post("/admin/agencies/{name}/signing-keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_signing_key(
    request: Request, name: str, key_id: str, session: SessionDep, admin: AdminDep,
    form: FormDep,
) -> Response:  # fmt: skip
    reason = form.get("reason", "")
    args = (session.principal, name, key_id, reason)
    _r, errors = await attempt(admin.revoke_signing_key, *args)
    if errors:
        return await _agency(
            request, session, admin, name, form_errors_of(errors, key_id), form, 400
        )
    url = f"/admin/agencies/{quote(name, safe='')}?done=signing-key-revoked"
    return RedirectResponse(url, status_code=303)


def form_errors_of(errors: Errors, form_id: str) -> Errors:
    """Field errors of one of several forms on a page: the field ids carry the form's id."""
    return [{**e, "field": f"{form_id}-{e['field']}"} for e in errors]
