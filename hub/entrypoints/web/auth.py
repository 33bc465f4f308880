"""GET/POST /login and POST /logout (the rules are hub/services/logins.py's)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.web.rendering import page
from hub.entrypoints.web.session import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    FormDep,
    SessionDep,
    login_csrf_token,
    read_form,
    set_login_csrf_cookie,
    set_session_cookie,
    start_page,
    web_state,
)
from hub.services.logins import LoginRefused, log_in, log_out

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None, role: str = "") -> str:
    """Only a path on this site: never an open redirect to another. Else the role's home."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return start_page(role)


def _login_page(
    request: Request, next_: str | None, name: str = "", errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    token = login_csrf_token(request)
    response = page(
        request, "login.html", status_code, title="Log in", next=next_, name=name,
        errors=errors or [], max_failures=web_state(request).rules.max_failures,
        csrf_token=token,
    )  # fmt: skip
    set_login_csrf_cookie(request, response, token)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next)


@router.post("/login")
async def login(request: Request, next: str | None = None) -> Response:
    form = await read_form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(403, "This form has expired; go back, reload the page and try again")
    name, password = form.get("name", "").strip(), form.get("password", "")
    errors = []
    if not name:
        errors.append({"field": "name", "message": "Enter your user name"})
    if not password:
        errors.append({"field": "password", "message": "Enter your password"})
    if errors:
        return _login_page(request, next, name, errors, 400)
    state = web_state(request)
    try:
        principal, token, _csrf = await run_in_threadpool(
            log_in, state.store, state.rules, name, password, state.clock()
        )
    except LoginRefused as exc:
        return _login_page(request, next, name, [{"field": "name", "message": str(exc)}], 401)
    response = RedirectResponse(safe_next(next, principal.role), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, _form: FormDep) -> Response:
    state = web_state(request)
    await run_in_threadpool(log_out, state.store, session, state.clock())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
