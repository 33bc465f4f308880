"""Read models kept by the stream processor: per-victim projections and alerts.

``Projector.apply_batch`` writes projections, alerts and tracking rows in one transaction,
so a redelivered event (same hub id) changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from hub.domain.events import CanonicalEvent
from hub.domain.projection import VictimProjection, apply_event
from hub.domain.rules import Alert, RuleSettings, evaluate
from hub.store.db import as_utc
from hub.store.schema import alerts, processed_events, victim_projections

CONSUMER = "victim-projector"


class Projector:
    def __init__(self, engine: Engine, rules: RuleSettings) -> None:
        self._engine = engine
        self._rules = rules

    def apply_batch(self, batch: Sequence[CanonicalEvent]) -> list[Alert]:
        """Apply the events not seen before; return the alerts raised for the first time."""
        with self._engine.begin() as conn:
            return self.apply_in(conn, batch)

    def apply_in(self, conn: Any, batch: Sequence[CanonicalEvent]) -> list[Alert]:
        """apply_batch inside the caller's transaction (replay folds many batches in one)."""
        now = datetime.now(UTC)
        ids = list({e.hub_id for e in batch})
        seen = set(
            conn.execute(
                select(processed_events.c.hub_id).where(
                    processed_events.c.consumer == CONSUMER, processed_events.c.hub_id.in_(ids)
                )
            ).scalars()
        )
        fresh: list[CanonicalEvent] = []
        for e in batch:
            if e.hub_id not in seen:
                seen.add(e.hub_id)
                fresh.append(e)
        if not fresh:
            return []
        victims = list({e.victim_token for e in fresh})
        stored = {
            token: VictimProjection.from_dict(json.loads(state))
            for token, state in conn.execute(
                select(victim_projections.c.victim_token, victim_projections.c.state).where(
                    victim_projections.c.victim_token.in_(victims)
                )
            )
        }
        current = dict(stored)
        raised: dict[str, Alert] = {}
        for e in fresh:
            p = apply_event(current.get(e.victim_token, VictimProjection(e.victim_token)), e)
            current[e.victim_token] = p
            for a in evaluate(p, e, self._rules):
                raised[a.alert_id] = a
        self._write_projections(conn, stored, current, now)
        conn.execute(
            insert(processed_events),
            [{"consumer": CONSUMER, "hub_id": e.hub_id} for e in fresh],
        )
        return self._insert_new_alerts(conn, list(raised.values()), now)

    @staticmethod
    def _write_projections(
        conn: Any, stored: dict[str, Any], current: dict[str, VictimProjection], now: datetime
    ) -> None:
        new = [
            {"victim_token": t, "state": json.dumps(p.to_dict()), "updated_at": now}
            for t, p in current.items()
            if t not in stored
        ]
        if new:
            conn.execute(insert(victim_projections), new)
        changed = [
            {"t": t, "state": json.dumps(p.to_dict()), "updated_at": now}
            for t, p in current.items()
            if t in stored
        ]
        if changed:  # one executemany, not a statement per victim
            conn.execute(
                update(victim_projections)
                .where(victim_projections.c.victim_token == bindparam("t"))
                .values(state=bindparam("state"), updated_at=bindparam("updated_at")),
                changed,
            )

    @staticmethod
    def _insert_new_alerts(conn: Any, candidates: list[Alert], now: datetime) -> list[Alert]:
        if not candidates:
            return []
        existing = set(
            conn.execute(
                select(alerts.c.alert_id).where(
                    alerts.c.alert_id.in_([a.alert_id for a in candidates])
                )
            ).scalars()
        )
        new = [a for a in candidates if a.alert_id not in existing]
        if new:
            conn.execute(insert(alerts), [alert_row(a, now) for a in new])
        return new


def alert_row(a: Alert, raised_at: datetime) -> dict[str, Any]:
    row = asdict(a)
    row["subject_tokens"] = json.dumps(list(a.subject_tokens))
    row["triggering_event_ids"] = json.dumps(list(a.triggering_event_ids))
    row["event_time"] = datetime.fromisoformat(a.event_time)
    row["raised_at"] = raised_at
    row["status"] = "new"
    return row


def alert_view(row: Any) -> dict[str, Any]:
    """An alert row as the API shows it."""
    return {
        "alert_id": row.alert_id,
        "rule": row.rule,
        "victim_token": row.victim_token,
        "subject_tokens": json.loads(row.subject_tokens),
        "triggering_event_ids": json.loads(row.triggering_event_ids),
        "event_time": as_utc(row.event_time).isoformat(),
        "raised_at": as_utc(row.raised_at).isoformat(),
        "reason": row.reason,
        "recommended_action": row.recommended_action,
        "lawful_basis": row.lawful_basis,
        "status": row.status,
    }


def list_alerts(
    engine: Engine, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    query = select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.alert_id).limit(limit)
    if status:
        query = query.where(alerts.c.status == status)
    with engine.connect() as conn:
        return [alert_view(r) for r in conn.execute(query)]


def get_projection(engine: Engine, victim_token: str) -> VictimProjection | None:
    with engine.connect() as conn:
        state = conn.execute(
            select(victim_projections.c.state).where(
                victim_projections.c.victim_token == victim_token
            )
        ).scalar_one_or_none()
    return None if state is None else VictimProjection.from_dict(json.loads(state))
