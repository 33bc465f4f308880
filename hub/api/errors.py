"""Error bodies: validation errors name each failing field path and what to fix, and never
echo the submitted values back (they may hold personal data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    # a discriminated union puts the event type in the path: drop it, the sender knows it
    if parts and parts[0] in {"police.incident", "risk.dash", "referral.made"}:
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def _error(loc: Sequence[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "path": _path(loc), "msg": msg, "type": kind}


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc, kind = tuple(e.get("loc", ())), str(e.get("type", "invalid"))
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")  # the discriminator is the field to fix
        errors.append(_error(loc, str(e.get("msg", "invalid")), kind))
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": errors}
    )


def validation_error(path: Sequence[str | int], msg: str, kind: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [_error(("body", *path), msg, kind)]
    )
