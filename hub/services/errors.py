"""Outcomes of the hub's services that refuse a request. Each message says what to fix; only
entry points turn them into status codes (hub/entrypoints/api/errors.py), once.

    ServiceError
    ├── Forbidden   the reader's role, kind or area may not do this   (HTTP 403)
    ├── NotFound    no such thing, or nothing this reader may see     (HTTP 404)
    ├── Conflict    the thing's state does not allow this (any more)  (HTTP 409)
    └── Unusable    a request that cannot be answered as asked        (HTTP 422)

Beside these: audit.chain.AuditError (the audit record could not be written: nothing is
shown or done, HTTP 503) and hub.services.ingress.IngressError (an event refused).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request a service will not carry out; str(error) says why and what to fix."""

    @property
    def detail(self) -> Any:
        """What the answer's ``detail`` holds: the message."""
        return str(self)


class Forbidden(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Unusable(ServiceError):
    """A request that cannot be answered as asked; errors, when given, name the field paths."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors

    @property
    def detail(self) -> Any:
        return self.errors if self.errors is not None else str(self)
