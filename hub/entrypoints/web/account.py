"""GET/POST /account/password: a person chooses their own password. After logging in with a
temporary password (one an administrator made) it is the only page that works until they do
(hub/entrypoints/web/session.py sends every other page here); the rules are
hub/services/logins.py's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.web.auth import safe_next
from hub.entrypoints.web.rendering import page
from hub.entrypoints.web.session import PASSWORD_PAGE, FormDep, SessionDep, web_state
from hub.services.logins import MIN_PASSWORD, PasswordRefused, WebSession, change_password

router = APIRouter(include_in_schema=False)


def _form(
    request: Request, session: WebSession, next_: str | None,
    errors: list[dict[str, str]] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return page(
        request, "account_password.html", status_code, title="Choose your password",
        next=next_, errors=errors or [], temporary=session.must_change_password,
        min_length=MIN_PASSWORD, action=PASSWORD_PAGE,
    )  # fmt: skip


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
async def password_form(
    request: Request, session: SessionDep, next: str | None = None
) -> HTMLResponse:
    return _form(request, session, next)


@router.post(PASSWORD_PAGE, response_class=HTMLResponse)
async def set_password(
    request: Request, session: SessionDep, form: FormDep, next: str | None = None
) -> Response:
    current, new, again = form.get("current", ""), form.get("password", ""), form.get("again", "")
    try:
        await run_in_threadpool(change_password, web_state(request).store, session, current,
                                new, again)  # fmt: skip
    except PasswordRefused as exc:
        return _form(request, session, next, exc.errors, 400)
    return RedirectResponse(safe_next(next, session.principal.role), status_code=303)
