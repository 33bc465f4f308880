"""Reads of the alerts read model for the API: lists with filters, one alert, and the changes
after a revision (the cursor of the live stream).

The worker's projector writes the ``alerts`` table (one row per rule and condition; a status
derived from the hub.alert.* lifecycle events; ``revision`` taken from one counter over the
whole table and bumped on every change). Nothing here writes it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Select, case, func, select

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import alerts
from hub.domain.alerts import AlertStatus, StoredAlert

# "reopened": dismissed, then a triggering event reached the hub after the dismissal; it is
# new again, so a filter on "new" includes it.
STATUSES = (
    AlertStatus.NEW,
    AlertStatus.REOPENED,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.ON_AGENDA,
    AlertStatus.DISMISSED,
)


@dataclass(frozen=True)
class AlertQuery:
    """Which alerts: every field narrows (None: any). Dates are whole UTC days of event time,
    both ends inclusive."""

    area: str | None = None
    status: str | None = None
    rule: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    family_id: str | None = None
    limit: int = 100
    offset: int = 0
    urgent_first: bool = False  # open first, soonest due, then latest event (the inbox's order)


def _tuple(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


def stored_alert(row: Any) -> StoredAlert:
    detail = json.loads(row.status_detail) if row.status_detail else {}
    return StoredAlert(
        alert_id=row.alert_id,
        rule=row.rule,
        family_id=row.family_id,
        area=row.area,
        victim_token=row.victim_token,
        person_ids=_tuple(row.person_ids),
        subject_tokens=_tuple(row.subject_tokens),
        triggering_event_ids=_tuple(row.triggering_event_ids),
        event_time=as_utc(row.event_time),
        raised_at=as_utc(row.raised_at),
        updated_at=as_utc(row.updated_at),
        reason=row.reason,
        recommended_action=row.recommended_action,
        lawful_basis=row.lawful_basis,
        due=None if row.due is None else as_utc(row.due),
        status=row.status,
        status_detail=detail if isinstance(detail, dict) else {},
        revision=int(row.revision),
    )


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _filtered(query: Select[Any], q: AlertQuery) -> Select[Any]:
    if q.area is not None:
        query = query.where(alerts.c.area == q.area)
    if q.status == AlertStatus.NEW:
        query = query.where(alerts.c.status.in_((AlertStatus.NEW, AlertStatus.REOPENED)))
    elif q.status is not None:
        query = query.where(alerts.c.status == q.status)
    if q.rule is not None:
        query = query.where(alerts.c.rule == q.rule)
    if q.family_id is not None:
        query = query.where(alerts.c.family_id == q.family_id)
    if q.date_from is not None:
        query = query.where(alerts.c.event_time >= start_of(q.date_from))
    if q.date_to is not None:
        query = query.where(alerts.c.event_time < start_of(q.date_to + timedelta(days=1)))
    return query


def list_alerts(engine: Engine, q: AlertQuery) -> list[StoredAlert]:
    """Alerts matching q, latest event first (event time is the same on a replay; the
    wall-clock times are not); with q.urgent_first, open alerts first, soonest due first
    (no deadline last), then latest event. q.offset and q.limit page through them."""
    latest: tuple[Any, ...] = (alerts.c.event_time.desc(), alerts.c.alert_id)
    order: tuple[Any, ...]
    if q.urgent_first:
        closed = case((alerts.c.status.in_((AlertStatus.NEW, AlertStatus.REOPENED)), 0), else_=1)
        no_due = case((alerts.c.due.is_(None), 1), else_=0)
        order = (closed, no_due, alerts.c.due, *latest)
    else:
        order = latest
    query = _filtered(select(alerts), q).order_by(*order).offset(q.offset).limit(q.limit)
    with engine.connect() as conn:
        return [stored_alert(r) for r in conn.execute(query)]


def count_alerts(engine: Engine, q: AlertQuery) -> int:
    """How many alerts match q's filters (before the sharing policy withholds any)."""
    with engine.connect() as conn:
        return int(
            conn.execute(_filtered(select(func.count()).select_from(alerts), q)).scalar_one()
        )


def get_alert(engine: Engine, alert_id: str) -> StoredAlert | None:
    with engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.alert_id == alert_id)).one_or_none()
    return None if row is None else stored_alert(row)


def alerts_of_families(engine: Engine, family_ids: Sequence[str]) -> list[StoredAlert]:
    """Every alert of these families, oldest event first."""
    if not family_ids:
        return []
    query = (
        select(alerts)
        .where(alerts.c.family_id.in_(sorted(set(family_ids))))
        .order_by(alerts.c.event_time, alerts.c.alert_id)
    )
    with engine.connect() as conn:
        return [stored_alert(r) for r in conn.execute(query)]


def families_in_area(engine: Engine, area: str) -> list[str]:
    """Families with at least one alert routed to this area."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(alerts.c.family_id)
                .where(alerts.c.area == area)
                .distinct()
                .order_by(alerts.c.family_id)
            ).scalars()
        )


def changes_since(engine: Engine, after: int, q: AlertQuery) -> tuple[list[StoredAlert], int]:
    """Alerts matching q changed after revision ``after``, in revision order (up to q.limit),
    and the revision the reader has now seen up to (the next ``after``).

    Alerts that do not match q still move the cursor on, so a quiet filter is not rescanned.
    This relies on revisions becoming visible in order (the projector takes them from one
    counter inside its transaction).
    """
    with engine.connect() as conn:
        high = int(conn.execute(select(func.max(alerts.c.revision))).scalar_one_or_none() or 0)
        query = (
            _filtered(select(alerts), q)
            .where(alerts.c.revision > after, alerts.c.revision <= high)
            .order_by(alerts.c.revision, alerts.c.alert_id)
            .limit(q.limit)
        )
        changed = [stored_alert(r) for r in conn.execute(query)]
        if len(changed) < q.limit:
            return changed, max(after, high)
        # A full page: end it at a whole revision (one revision may cover several rows).
        last = changed[-1].revision
        whole = [a for a in changed if a.revision < last]
        if whole:
            return whole, whole[-1].revision
        rest = conn.execute(
            _filtered(select(alerts), q)
            .where(alerts.c.revision == last)
            .order_by(alerts.c.alert_id)
        )
        return [stored_alert(r) for r in rest], last


def current_revision(engine: Engine) -> int:
    """The highest revision written so far (0 before any alert)."""
    with engine.connect() as conn:
        value = conn.execute(select(func.max(alerts.c.revision))).scalar_one_or_none()
    return int(value or 0)
