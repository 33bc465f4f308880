"""Templates and how a page turns a service's refusal into an error page.

Templates hold loops and conditions only; the wording that depends on data (risk levels in
words, dates) is here, as filters, so every page says it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from audit.chain import AuditError
from hub.services.errors import Conflict, Forbidden, NotFound, ServiceError, Unusable

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)

# Risk in words as well as colour (WCAG 1.4.1): the tag's text says the level.
RISK_WORDS = {
    "high": ("High risk", "govuk-tag--red"),
    "visible_high": ("High risk", "govuk-tag--red"),
    "medium": ("Medium risk", "govuk-tag--orange"),
    "standard": ("Standard risk", "govuk-tag--grey"),
    "low": ("Standard risk", "govuk-tag--grey"),
}
STATUS_WORDS = {
    "new": ("New", "govuk-tag--blue"),
    "reopened": ("Reopened", "govuk-tag--purple"),
    "acknowledged": ("Acknowledged", "govuk-tag--turquoise"),
    "on_agenda": ("On Marac agenda", "govuk-tag--green"),
    "dismissed": ("Dismissed", "govuk-tag--grey"),
}


def risk_tag(level: str | None) -> tuple[str, str]:
    if not level:
        return ("Not assessed", "govuk-tag--grey")
    return RISK_WORDS.get(str(level).lower(), (str(level).replace("_", " ").capitalize(), ""))


def status_tag(status: str) -> tuple[str, str]:
    return STATUS_WORDS.get(status, (status.replace("_", " ").capitalize(), ""))


def when(value: Any) -> str:
    """A date or time as a person reads it: 5 Jan 2026 09:00 (UTC)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%-d %b %Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%-d %b %Y")
    return str(value)


def words(value: Any) -> str:
    """An identifier as words: visible_high_risk → Visible high risk."""
    return str(value).replace("_", " ").replace(".", " ").capitalize()


templates.env.filters["when"] = when
templates.env.filters["words"] = words
templates.env.globals["risk_tag"] = risk_tag
templates.env.globals["status_tag"] = status_tag


def pagination(
    number: int, total: int, per_page: int, href: Callable[[int], str]
) -> dict[str, Any]:
    """GOV.UK pagination of `total` items, `per_page` a page: where page `number` starts and
    ends, and links (by `href`) to the previous and next pages, None at either end."""
    pages = max(1, -(-total // per_page))
    return {
        "number": number, "pages": pages, "total": total,
        "first": (number - 1) * per_page + 1, "last": min(number * per_page, total),
        "previous": href(number - 1) if number > 1 else None,
        "next": href(number + 1) if number < pages else None,
    }  # fmt: skip


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the layout reads the session (who, CSRF token) from request.state."""
    session = getattr(request.state, "web_session", None)
    context.setdefault("errors", [])
    return templates.TemplateResponse(
        request, template, {"session": session, **context}, status_code=status_code,
        headers={"Cache-Control": "no-store"},  # personal information: never cached
    )  # fmt: skip


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


_TITLES: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "Page not found"),
    (Forbidden, 403, "You cannot see this"),
    (Conflict, 409, "This has changed"),
    (Unusable, 422, "There is a problem"),
]

T = TypeVar("T")


async def call_service(fn: Callable[..., T], *args: Any) -> T:
    """Run a service in the thread pool; its refusals become PageErrors with its message."""
    try:
        return await run_in_threadpool(fn, *args)
    except AuditError:
        raise PageError(
            503, "Sorry, there is a problem with the service",
            "The hub could not record this disclosure in its audit log, so nothing is shown. "
            "Try again later.",
        ) from None  # fmt: skip
    except ServiceError as exc:
        for kind, status, title in _TITLES:
            if isinstance(exc, kind):
                raise PageError(status, title, str(exc)) from None
        raise


def error_page(request: Request, exc: PageError) -> HTMLResponse:
    return page(request, "error.html", exc.status, title=exc.title, message=exc.message)
