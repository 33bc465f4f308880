"""Rebuild and refill: the event store is the record, everything else can be made again.

- ``rebuild`` folds every stored event, in large batches, through the same Projector the
  worker uses, into empty read models, in one transaction (readers see the old state until
  it commits). Rules use event time only, so the same alerts come back with the same ids.
- ``state_digest`` hashes the read models (projections, alerts, tracking rows) without the
  wall-clock moment an alert was raised, so live and rebuilt states can be compared.
- ``refill`` republishes every stored event to Kafka through the outbox, for a broker that
  is new or was emptied; consumers skip what they had already applied.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select, update

from hub.domain.rules import RuleSettings
from hub.store.events import SqlEventStore
from hub.store.readmodels import Projector
from hub.store.schema import alerts, outbox, processed_events, victim_projections

BATCH = 5000


@dataclass(frozen=True)
class ReplayResult:
    events: int
    projections: int
    alerts: int
    seconds: float


def rebuild(engine: Engine, rules: RuleSettings, batch: int = BATCH) -> ReplayResult:
    started = time.perf_counter()
    store = SqlEventStore(engine)
    projector = Projector(engine, rules)
    n, after = 0, 0
    with engine.begin() as conn:
        for table in (alerts, victim_projections, processed_events):
            conn.execute(delete(table))
        while rows := store.read(after, batch):
            after = rows[-1][0]
            projector.apply_in(conn, [e for _, e in rows])
            n += len(rows)
        projections = conn.execute(select(func.count()).select_from(victim_projections)).scalar()
        raised = conn.execute(select(func.count()).select_from(alerts)).scalar()
    return ReplayResult(n, int(projections or 0), int(raised or 0), time.perf_counter() - started)


def state_digest(engine: Engine) -> str:
    """SHA-256 over the read models in a fixed order (alerts without raised_at)."""
    h = hashlib.sha256()
    with engine.connect() as conn:
        for token, state in conn.execute(
            select(victim_projections.c.victim_token, victim_projections.c.state).order_by(
                victim_projections.c.victim_token
            )
        ):
            h.update(f"P|{token}|{state}\n".encode())
        cols = [c for c in alerts.c if c.name != "raised_at"]
        for row in conn.execute(select(*cols).order_by(alerts.c.alert_id)):
            h.update(("A|" + json.dumps([str(v) for v in row]) + "\n").encode())
        for consumer, hub_id in conn.execute(
            select(processed_events.c.consumer, processed_events.c.hub_id).order_by(
                processed_events.c.consumer, processed_events.c.hub_id
            )
        ):
            h.update(f"T|{consumer}|{hub_id}\n".encode())
    return h.hexdigest()


def refill(engine: Engine) -> int:
    """Mark every outbox row for publishing again; the relay sends them in store order."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                update(outbox).where(outbox.c.published_at.is_not(None)).values(published_at=None)
            ).rowcount
        )
