"""SQL for the agencies' feed: the stored events an item may come from, read in store order
only as far as the projector has settled them, and each Kafka egress's saved cursor.

Why "settled": routing reads the event's family (who is involved, whether it has children),
which the projector writes. An event the projector has not applied (nor set apart as poison)
stops the read there, so the cursor never passes an event whose family is not known yet;
the next read picks it up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, exists, insert, select, update

from hub.adapters.sql.progress import PROJECTOR
from hub.adapters.sql.schema import events, failed_events, feed_egress, processed_events
from hub.domain.events import CanonicalEvent


def settled_events(
    engine: Engine, after_seq: int, types: Sequence[str], scan: int = 2000
) -> tuple[list[tuple[int, CanonicalEvent]], int, bool]:
    """Events of these types after ``after_seq`` in store order, up to the first one the
    projector has not settled and at most ``scan`` stored events on; the seq read up to (the
    next ``after_seq``); and whether more may be waiting."""
    applied = exists().where(
        processed_events.c.consumer == PROJECTOR, processed_events.c.hub_id == events.c.hub_id
    )
    set_apart = exists().where(failed_events.c.hub_id == events.c.hub_id)
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.seq, events.c.type, (applied | set_apart).label("settled"))
            .where(events.c.seq > after_seq)
            .order_by(events.c.seq)
            .limit(scan)
        ).all()
        upto, wanted = after_seq, list[int]()
        for seq, type_, settled in rows:
            if not settled:
                return _bodies(conn, wanted), upto, False
            upto = seq
            if type_ in types:
                wanted.append(seq)
        return _bodies(conn, wanted), upto, len(rows) == scan


def _bodies(conn: Connection, seqs: list[int]) -> list[tuple[int, CanonicalEvent]]:
    if not seqs:
        return []
    rows = conn.execute(
        select(events.c.seq, events.c.body).where(events.c.seq.in_(seqs)).order_by(events.c.seq)
    ).all()
    return [(seq, CanonicalEvent.from_json(body)) for seq, body in rows]


def egress_cursor(engine: Engine, agency_id: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(feed_egress.c.cursor).where(feed_egress.c.agency_id == agency_id)
        ).scalar()
    return None if value is None else str(value)


def save_egress_cursor(engine: Engine, agency_id: str, cursor: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        done = conn.execute(
            update(feed_egress)
            .where(feed_egress.c.agency_id == agency_id)
            .values(cursor=cursor, updated_at=now)
        ).rowcount
        if not done:
            conn.execute(
                insert(feed_egress).values(agency_id=agency_id, cursor=cursor, updated_at=now)
            )
