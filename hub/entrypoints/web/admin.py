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
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.adapters.sql.accounts import Account
from hub.adapters.sql.principals import Principal
from hub.bootstrap import administration
from hub.entrypoints.shared import ServicesDep
from hub.entrypoints.web.rendering import PageError, call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.admin import Administration
from hub.services.errors import Unusable
from hub.services.logins import WebSession

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


@dataclass(frozen=True)
class DetailPage:
    """The page of one principal (an agency system or a person) with its forms, and how a
    form's change is made: field errors show the page again by that form's fields (400)."""

    path: str  # the list's address; the page is path/{name}
    template: str
    title: str  # with {name}
    what: str  # in "There is no … named"
    listing: Callable[[Administration], Callable[[Principal], list[Account]]]

    def url(self, name: str, done: str | None = None) -> str:
        return f"{self.path}/{quote(name, safe='')}" + (f"?done={done}" if done else "")

    async def show(
        self, request: Request, session: WebSession, admin: Administration, name: str,
        errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        everyone = await call_service(self.listing(admin), session.principal)
        found = [a for a in everyone if a.principal.name == name]
        if not found:
            raise PageError(404, "Page not found", f"There is no {self.what} named {name}")
        return page(
            request, self.template, status, title=self.title.format(name=name), nav=self.path,
            account=found[0], errors=errors or [], form=form or {}, done=done_message(request),
        )  # fmt: skip

    async def change(
        self, request: Request, session: WebSession, admin: Administration, name: str,
        form: dict[str, str], form_id: str, fn: Callable[..., Any], *args: Any,
    ) -> tuple[Any, HTMLResponse | None]:  # fmt: skip
        made, errors = await attempt(fn, session.principal, name, *args)
        if errors:
            errors = form_errors_of(errors, form_id)
            return None, await self.show(request, session, admin, name, errors, form, 400)
        return made, None


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


AGENCY = DetailPage("/admin/agencies", "admin_agency.html", "Agency system {name}",
                    "agency system", lambda admin: admin.agencies)  # fmt: skip


@router.get("/admin/agencies/{name}", response_class=HTMLResponse)
async def agency(request: Request, name: str, session: SessionDep, admin: AdminDep) -> Response:
    """One agency system: its key and signing keys, and what can be done to them."""
    return await AGENCY.show(request, session, admin, name)


@router.post("/admin/agencies/{name}/rotate-key", response_class=HTMLResponse)
async def rotate_key(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    change = (admin.rotate_agency_key, form.get("reason", ""))
    key, again = await AGENCY.change(request, session, admin, name, form, "rotate", *change)
    return again or shown_once(
        request, f"New API key for {name}",
        "The old key stopped working just now. Give this key to the agency's system "
        "administrator by a secure channel: it is shown only this once.",
        [("API key", "api-key", key)], AGENCY.url(name),
    )  # fmt: skip


@router.post("/admin/agencies/{name}/revoke", response_class=HTMLResponse)
async def revoke_agency(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    change = (admin.revoke_agency, form.get("reason", ""))
    _r, again = await AGENCY.change(request, session, admin, name, form, "revoke", *change)
    return again or RedirectResponse(AGENCY.url(name, "revoked"), status_code=303)


@router.post("/admin/agencies/{name}/signing-keys", response_class=HTMLResponse)
async def add_signing_key(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    change = (admin.add_signing_key, form.get("public_key", "").encode(), form.get("reason", ""))
    _k, again = await AGENCY.change(request, session, admin, name, form, "key", *change)
    return again or RedirectResponse(AGENCY.url(name, "signing-key"), status_code=303)


@router.post("/admin/agencies/{name}/signing-keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_signing_key(
    request: Request, name: str, key_id: str, session: SessionDep, admin: AdminDep,
    form: FormDep,
) -> Response:  # fmt: skip
    change = (admin.revoke_signing_key, key_id, form.get("reason", ""))
    _r, again = await AGENCY.change(request, session, admin, name, form, key_id, *change)
    return again or RedirectResponse(AGENCY.url(name, "signing-key-revoked"), status_code=303)


def form_errors_of(errors: Errors, form_id: str) -> Errors:
    """Field errors of one of several forms on a page: the field ids carry the form's id."""
    return [{**e, "field": f"{form_id}-{e['field']}"} for e in errors]
