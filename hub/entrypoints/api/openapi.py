"""What the OpenAPI document says about errors: every /v1 route lists each status it can
answer with, each with the one error body (``ErrorBody``, errors.py builds it), so that a
client generated from the document, or schemathesis, meets no undocumented answer.

The statuses follow from what stands in front of a route and what it declares: the request
guard (guard.py: 401, 413 and 415 for every route), validation (422
wherever there are parameters or a body), the policy point (503 when the audit log cannot
be written), and the routes' own refusals (403, 404, 409: each route's ``responses``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from hub.entrypoints.api.deps import get_policy_point


class Problem(BaseModel):
    """One thing wrong with a request, and what to fix."""

    loc: list[str | int] = Field(description="where: e.g. ['body', 'data', 'subjects', 0]")
    path: str = Field(description="the field path, dotted; '(request)' for the whole request")
    msg: str = Field(description="what is wrong and what to send instead")
    type: str = Field(description="a stable code, e.g. missing, too_large, forbidden")


class ErrorBody(BaseModel):
    """Every error answer of the hub, whatever its status."""

    detail: list[Problem]


DEFAULTS: dict[int, str] = {
    401: "No valid API key (send 'Authorization: Bearer hubk_…')",
    403: "Your role, kind or area may not do this; the detail says which",
    404: "No such thing, or none you may see",
    413: "The body is larger than this route's limit; nothing of it was used",
    415: "The body is not in a media type this route takes (application/json)",
    422: "A parameter or field is invalid: each problem names its path",
    503: "The disclosure could not be audited, so nothing was shown or done",
}


def _uses_policy_point(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is get_policy_point:
            return True
        stack.extend(dep.dependencies)
    return False


def _statuses(route: APIRoute) -> set[int]:
    # the guard checks any body sent, to any route: its size and its media type
    codes = {401, 403, 413, 415}
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        codes.add(422)
    dep = route.dependant
    if dep.query_params or dep.path_params or dep.header_params:
        codes.add(422)
    if route.dependant.path_params:
        codes.add(404)
    if _uses_policy_point(route):
        codes.add(503)
    return codes


def document_errors(router: APIRouter) -> None:
    """Give every /v1 route of the router the error statuses it can answer, each with
    ErrorBody. Call it before the router is included: including builds the routes' response
    schemas from their ``responses``. Idempotent."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        responses: dict[int | str, dict[str, Any]] = dict(route.responses)
        declared = {int(c) for c in responses if str(c).isdigit()}
        for code in sorted(_statuses(route) | {c for c in declared if c >= 400}):
            entry = dict(responses.get(code, {"description": DEFAULTS.get(code, "An error")}))
            entry["model"] = ErrorBody
            responses[code] = entry
        route.responses = responses
