"""Who is looking at a page: the session cookie, the CSRF check on every form, and the
web's state (login store, rules, clock, templates) on app.state.web.

The cookie holds a random session token (hub/adapters/sql/logins.py keeps its hash): HttpOnly,
SameSite=Lax, Secure when the page was served over TLS. Each form carries the session's CSRF
token in a hidden field; a POST without the right one is refused (403) before anything is
read or done. The login form, before any session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from hub.adapters.sql.logins import SqlLoginStore
from hub.services.logins import LoginRules, WebSession, current_session

COOKIE = "hub_session"
LOGIN_CSRF_COOKIE = "hub_login_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 64 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebState:
    store: SqlLoginStore
    rules: LoginRules
    clock: Callable[[], datetime] = field(default=_now)  # tests pass a fake clock


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login page."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class PasswordChangeRequired(LoginRequired):
    """Logged in with a temporary password: every page but the password page (and logging
    out) answers with a redirect to it, then back here."""


PASSWORD_PAGE = "/account/password"
# what works before a temporary password is changed
BEFORE_PASSWORD_CHANGE = frozenset({PASSWORD_PAGE, "/logout"})


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


async def web_session(request: Request) -> WebSession:
    """The live session of this request, or LoginRequired (a redirect to /login)."""
    state = web_state(request)
    token = request.cookies.get(COOKIE)
    found = await run_in_threadpool(current_session, state.store, state.rules, token, state.clock())
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if found is None:
        raise LoginRequired(back)
    if found.must_change_password and request.url.path not in BEFORE_PASSWORD_CHANGE:
        raise PasswordChangeRequired(back)
    request.state.web_session = found  # the layout shows who is logged in and the CSRF token
    return found


SessionDep = Annotated[WebSession, Depends(web_session)]


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as {field: last value}."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "This form is too large")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


async def checked_form(request: Request, session: SessionDep) -> dict[str, str]:
    """The posted form, only if it carries this session's CSRF token (403 otherwise)."""
    form = await read_form(request)
    if not session.csrf_ok(form.get(CSRF_FIELD)):
        raise HTTPException(403, "This form has expired or did not come from the hub's pages")
    return form


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
    )


def login_csrf_token(request: Request) -> str:
    """The login form's CSRF token: the browser's cookie's, or a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=secure_cookies(request), path="/login",
    )  # fmt: skip


def start_page(role: str) -> str:
    """Where a person lands after logging in: administrators and IG officers on their own
    pages (the sharing policy shows them no alerts), everyone else on the alert inbox."""
    return {"admin": "/admin", "ig_officer": "/ig/disclosures"}.get(role, "/alerts")


def login_url(back_to: str) -> str:
    return "/login" if back_to in ("", "/") else f"/login?next={quote(back_to, safe='')}"


def password_url(back_to: str) -> str:
    if back_to in ("", "/", PASSWORD_PAGE):
        return PASSWORD_PAGE
    return f"{PASSWORD_PAGE}?next={quote(back_to, safe='')}"
