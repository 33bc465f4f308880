"""An alert as the read model keeps it: what a chair's inbox and the Marac agenda show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertStatus(StrEnum):
    """Where an alert stands. REOPENED: dismissed, then a triggering event reached the hub after
    the dismissal; it counts as new (a filter on NEW includes it)."""

    NEW = "new"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    ON_AGENDA = "on_agenda"
    DISMISSED = "dismissed"


OPEN_STATUSES = frozenset({AlertStatus.NEW, AlertStatus.REOPENED, AlertStatus.ACKNOWLEDGED})


@dataclass(frozen=True)
class StoredAlert:
    alert_id: str
    rule: str
    family_id: str
    area: str
    victim_token: str
    person_ids: tuple[str, ...]
    subject_tokens: tuple[str, ...]
    triggering_event_ids: tuple[str, ...]
    event_time: datetime
    raised_at: datetime
    updated_at: datetime
    reason: str
    recommended_action: str
    lawful_basis: str | None
    due: datetime | None
    status: str
    status_detail: dict[str, Any]
    revision: int
