"""What a send returns, and the errors a publishing client raises.

Errors (one tree; each message says what to fix):

    HubSendError
    ├── HubUnavailable    the hub (or broker) could not be reached, even after retries
    ├── HubAuthError      the credential was refused (HTTP 401): nothing can be sent with it
    └── HubProtocolError  the hub answered something this client does not understand

A rejected *event* is not an error: it is a ``SendResult`` with status "rejected", its
reason code and the failing field paths, so one bad event never stops the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["accepted", "duplicate", "rejected", "sent"]


@dataclass(frozen=True)
class SendResult:
    """accepted / duplicate (stored before; resends are safe) / rejected (reason, errors) over
    HTTP; "sent" over Kafka, where the broker has it and refusals arrive on
    hub.ingress.rejected."""

    id: str | None
    status: Status
    hub_id: str | None = None
    reason: str | None = None
    errors: tuple[dict[str, Any], ...] = ()

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.hub_id:
            out["hub_id"] = self.hub_id
        if self.reason:
            out["reason"] = self.reason
            out["errors"] = list(self.errors)
        return out


class HubSendError(Exception):
    """Sending could not go on; str(error) says why and what to do."""


class HubUnavailable(HubSendError):
    pass


class HubAuthError(HubSendError):
    pass


class HubProtocolError(HubSendError):
    pass
