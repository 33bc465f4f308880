"""Errors to HTTP, once for every route, in one body shape: ``{"detail": [problem, ...]}``,
each problem naming the field path (``path``; ``(request)`` when no one field is at fault),
what to fix (``msg``) and a stable ``type``. Validation errors never echo the submitted values
back (they may hold personal data); the services' refusals (hub/services/errors.py), ingress
refusals and audit failures get their status codes here, so routes neither catch them nor
build HTTPExceptions for them. hub/entrypoints/api/openapi.py documents the shape
(``ErrorBody``) on every route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from audit.chain import AuditError
from hub.contract.parse import error_entry, errors_from
from hub.entrypoints.shared import AUDIT_UNAVAILABLE
from hub.services.errors import Conflict, Forbidden, NotFound, ServiceError, Unusable
from hub.services.ingress import EventIdConflict, EventRejected, IngressError, NotAllowedToSend

SERVICE_STATUS: dict[type[ServiceError], tuple[int, str]] = {
    Forbidden: (status.HTTP_403_FORBIDDEN, "forbidden"),
    NotFound: (status.HTTP_404_NOT_FOUND, "not_found"),
    Conflict: (status.HTTP_409_CONFLICT, "conflict"),
    Unusable: (status.HTTP_422_UNPROCESSABLE_CONTENT, "unusable"),
}
# The stable type of an error without a field path, by status code.
KIND_OF_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 422: "unusable", 503: "unavailable",
}  # fmt: skip


def problem(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    """One entry of an error body; an empty loc means the request as a whole."""
    entry = error_entry(loc, msg, kind)
    if not loc:
        entry["path"] = "(request)"
    return entry


def error_response(
    code: int, problems: list[dict[str, Any]], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": problems}, status_code=code, headers=headers)


def as_problems(detail: Any, code: int) -> list[dict[str, Any]]:
    """A detail given as a message becomes one problem about the request as a whole."""
    if isinstance(detail, list):
        return detail
    return [problem((), str(detail), KIND_OF_STATUS.get(code, "error"))]


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, errors_from(exc.errors()))


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path: Starlette's 405 names only the first
    route that matched the path, and this API has one route per method (create_app lists
    them in app.state.route_methods)."""
    path = request.url.path
    routes = getattr(request.app.state, "route_methods", [])
    return ", ".join(sorted({m for regex, methods in routes if regex.match(path) for m in methods}))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, headers = exc.status_code, exc.headers
    detail: Any = exc.detail
    if code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    if code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers 400 "There was an error parsing the body" for a body that is not
        # UTF-8 (json.JSONDecodeError, the other ValueError, already is a 422): name the body
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        detail = [problem(("body",), "the body is not JSON in UTF-8", "json_invalid")]
    return error_response(code, as_problems(detail, code), headers)


async def on_service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    code, kind = next(v for k, v in SERVICE_STATUS.items() if isinstance(exc, k))
    detail = exc.detail
    return error_response(code, detail if isinstance(detail, list) else [problem((), detail, kind)])


async def on_audit_error(_request: Request, _exc: Exception) -> JSONResponse:
    # nothing was shown or done: the disclosure could not be recorded (fail closed)
    return error_response(503, [problem((), AUDIT_UNAVAILABLE, "audit_unavailable")])


async def on_ingress_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IngressError)
    if isinstance(exc, NotAllowedToSend):
        return error_response(403, [problem(("body", "type"), str(exc), "not_allowed")])
    if isinstance(exc, EventIdConflict):
        return error_response(409, [problem(("body", "id"), str(exc), "conflict")])
    assert isinstance(exc, EventRejected)
    entry = problem(("body", *exc.field_path), str(exc), exc.reason)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, [entry])


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(AuditError, on_audit_error)
    app.add_exception_handler(IngressError, on_ingress_error)


def validation_error(path: Sequence[str | int], msg: str, kind: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [problem(("body", *path), msg, kind)]
    )


def body_error(code: int, msg: str, kind: str) -> HTTPException:
    """An error about the body as a whole (e.g. not a JSON array)."""
    return HTTPException(code, [problem(("body",), msg, kind)])
