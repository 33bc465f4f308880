"""The people's pages: server-rendered with Jinja2 and GOV.UK Frontend, served by the API's
FastAPI app (docs/architecture.md, "People's pages").

A page is an entry point like an API route: it takes the policy point (the route-enumeration
test checks), calls the same service, and so writes the same audit record. People log in with
a password (hub/services/logins.py); systems keep their bearer keys on /v1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.adapters.sql.logins import SqlLoginStore
from hub.entrypoints.web import (
    account,
    admin,
    admin_people,
    admin_settings,
    auth,
    family,
    identity,
    ig,
    ig_people,
    inbox,
    meeting,
    reports,
)
from hub.entrypoints.web.rendering import PageError, error_page, page
from hub.entrypoints.web.session import (
    LoginRequired,
    PasswordChangeRequired,
    WebState,
    login_url,
    password_url,
)
from hub.services.ig import Integrity
from hub.services.logins import LoginRules
from hub.settings import Settings, SettingsError, env_name

__all__ = ["assets_dir", "install_web"]

_SOURCE_TREE = Path(__file__).resolve().parents[3]
_DIST = Path("node_modules/govuk-frontend/dist/govuk")


def assets_dir(settings: Settings) -> Path:
    """GOV.UK Frontend's compiled files; SettingsError saying how to get them if missing."""
    candidates = (
        [settings.web_assets_dir]
        if settings.web_assets_dir is not None
        else [_SOURCE_TREE / _DIST, Path.cwd() / _DIST]
    )
    for path in candidates:
        if (path / "govuk-frontend.min.css").is_file():
            return path
    raise SettingsError(
        f"GOV.UK Frontend is not installed at {candidates[0]}: run `make venv` (it runs "
        f"`npm ci`), or set {env_name('web_assets_dir')} to its dist/govuk folder"
    )


def install_web(
    app: FastAPI, settings: Settings, store: SqlLoginStore,
    clock: Callable[[], datetime] | None = None,
) -> None:  # fmt: skip
    """Mount the static files and the pages on app, with the web's state."""
    assets = assets_dir(settings)
    state = WebState(store, LoginRules.from_settings(settings))
    if clock is not None:
        state.clock = clock
    app.state.web = state
    # GOV.UK Frontend's CSS asks for its fonts and images at /assets
    app.mount("/assets", StaticFiles(directory=assets / "assets"), name="govuk-assets")
    app.mount("/govuk", StaticFiles(directory=assets), name="govuk")
    app.mount("/static/hub", StaticFiles(directory=Path(__file__).parent / "static"), name="hub")
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(inbox.router)
    app.include_router(family.router)
    app.include_router(identity.router)
    app.include_router(meeting.router)
    app.include_router(reports.router)
    for router in (
        admin.router,
        admin_people.router,
        admin_settings.router,
        ig.router,
        ig_people.router,
    ):
        app.include_router(router)
    app.state.ig_integrity = Integrity()  # "verify now" runs, held by this process

    @app.exception_handler(LoginRequired)
    async def _to_login(_request: Request, exc: LoginRequired) -> Response:
        if isinstance(exc, PasswordChangeRequired):
            return RedirectResponse(password_url(exc.back_to), status_code=303)
        return RedirectResponse(login_url(exc.back_to), status_code=303)

    @app.exception_handler(PageError)
    async def _error_page(request: Request, exc: PageError) -> HTMLResponse:
        return error_page(request, exc)

    api_errors = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # /v1 and the docs answer JSON as before; a person's page answers a page
        if request.url.path.startswith("/v1") or "text/html" not in request.headers.get(
            "accept", ""
        ):
            if api_errors is not None:
                answer = api_errors(request, exc)
                return answer if isinstance(answer, Response) else await answer
            raise exc
        title = "Page not found" if exc.status_code == 404 else "There is a problem"
        return page(request, "error.html", exc.status_code, title=title, message=exc.detail)
