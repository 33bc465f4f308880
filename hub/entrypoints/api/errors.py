"""Error bodies: validation errors name each failing field path and what to fix, and never
echo the submitted values back (they may hold personal data)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hub.contract.parse import error_entry, errors_from


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": errors_from(exc.errors())},
    )


def validation_error(path: Sequence[str | int], msg: str, kind: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [error_entry(("body", *path), msg, kind)]
    )
