"""The administrator's pages about people: the list, adding a person (role, agency, area),
a temporary password in place of a forgotten one, and disabling a login. Each change goes
through hub.services.admin, audited with who and why (hub/entrypoints/web/admin.py says how
these pages are built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.entrypoints.web.admin import (
    AdminDep,
    DetailPage,
    Errors,
    attempt,
    done_message,
    shown_once,
)
from hub.entrypoints.web.rendering import call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.admin import Administration, temporary_password

router = APIRouter(include_in_schema=False)


async def _people(
    request: Request, session: SessionDep, admin: Administration, errors: Errors,
    form: dict[str, str], status: int = 200,
) -> HTMLResponse:  # fmt: skip
    people = await call_service(admin.people, session.principal)
    return page(
        request, "admin_people.html", status, title="People", nav="/admin/people",
        people=people, role_options=[(r, r) for r in admin.roles()], errors=errors, form=form,
        done=done_message(request),
    )  # fmt: skip


@router.get("/admin/people", response_class=HTMLResponse)
async def people(request: Request, session: SessionDep, admin: AdminDep) -> HTMLResponse:
    """Every person with a login or API key, and the form to add one."""
    return await _people(request, session, admin, [], {})


@router.post("/admin/people", response_class=HTMLResponse)
async def add_person(
    request: Request, session: SessionDep, admin: AdminDep, form: FormDep
) -> HTMLResponse:
    password = temporary_password()
    name = form.get("name", "").strip()
    args = (session.principal, name, form.get("role", ""), form.get("agency"),
            form.get("area"), form.get("reason", ""), password, True)  # fmt: skip
    added, errors = await attempt(admin.add_person, *args)
    if added is None:
        return await _people(request, session, admin, errors, form, 400)
    return shown_once(
        request, f"{name} added",
        "Give them the temporary password in person or by a trusted channel, and the API key "
        "only if their work needs one. They choose their own password when they first log in. "
        "The hub keeps only hashes, so this page is the only time either is shown.",
        [("Temporary password", "password", password), ("API key", "api-key", added[1])],
        "/admin/people",
    )  # fmt: skip


PERSON = DetailPage("/admin/people", "admin_person.html", "{name}", "person",
                    lambda admin: admin.people)  # fmt: skip


@router.get("/admin/people/{name}", response_class=HTMLResponse)
async def person(request: Request, name: str, session: SessionDep, admin: AdminDep) -> Response:
    """One person: their role, agency, area and state, and what can be done."""
    return await PERSON.show(request, session, admin, name)


@router.post("/admin/people/{name}/reset-password", response_class=HTMLResponse)
async def reset_password(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    change = (admin.reset_password, form.get("reason", ""))
    password, again = await PERSON.change(request, session, admin, name, form, "reset", *change)
    return again or shown_once(
        request, f"New temporary password for {name}",
        "Their old password no longer works and any lock-out is cleared. Give them this "
        "password in person or by a trusted channel: it is shown only this once, and they "
        "choose their own when they log in with it.",
        [("Temporary password", "password", password)], PERSON.url(name),
    )  # fmt: skip


@router.post("/admin/people/{name}/disable", response_class=HTMLResponse)
async def disable(
    request: Request, name: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> Response:
    change = (admin.disable_person, form.get("reason", ""))
    _r, again = await PERSON.change(request, session, admin, name, form, "disable", *change)
    return again or RedirectResponse(PERSON.url(name, "disabled"), status_code=303)
