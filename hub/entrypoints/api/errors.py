"""Errors to HTTP, once for every route: validation errors name each failing field path and
what to fix, and never echo the submitted values back (they may hold personal data); the
services' refusals (hub/services/errors.py), ingress refusals and audit failures get their
status codes here, so routes neither catch them nor build HTTPExceptions for them."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from audit.chain import AuditError
from hub.contract.parse import error_entry, errors_from
from hub.entrypoints.shared import AUDIT_UNAVAILABLE
from hub.services.errors import Conflict, Forbidden, NotFound, ServiceError, Unusable
from hub.services.ingress import EventIdConflict, EventRejected, IngressError, NotAllowedToSend

SERVICE_STATUS: dict[type[ServiceError], int] = {
    Forbidden: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Unusable: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": errors_from(exc.errors())},
    )


async def on_service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    code = next(c for kind, c in SERVICE_STATUS.items() if isinstance(exc, kind))
    return JSONResponse({"detail": exc.detail}, status_code=code)


async def on_audit_error(_request: Request, _exc: Exception) -> JSONResponse:
    # nothing was shown or done: the disclosure could not be recorded (fail closed)
    return JSONResponse({"detail": AUDIT_UNAVAILABLE}, status_code=503)


async def on_ingress_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IngressError)
    if isinstance(exc, NotAllowedToSend):
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, EventIdConflict):
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
    assert isinstance(exc, EventRejected)
    entry = error_entry(("body", *exc.field_path), str(exc), exc.reason)
    return JSONResponse({"detail": [entry]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(AuditError, on_audit_error)
    app.add_exception_handler(IngressError, on_ingress_error)


def validation_error(path: Sequence[str | int], msg: str, kind: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [error_entry(("body", *path), msg, kind)]
    )
