"""The event store: append-only, with the outbox row written in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.sql.schema import event_tokens, events, outbox
from hub.domain.events import CanonicalEvent


@dataclass(frozen=True)
class AppendResult:
    hub_id: str
    stored: bool  # False: this agency already sent this event id
    same_content: bool  # for a repeat: True when the resend carries the same content


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    topic: str
    key: str
    value: str
    event_seq: int


class Sealer(Protocol):
    """Seals the values ingress marked Unsealed (hub.domain.events), inside the transaction
    that stores them: hub.adapters.crypto.ciphers.FieldCipher."""

    def seal_in(
        self, conn: Connection, events: Sequence[CanonicalEvent]
    ) -> list[CanonicalEvent]: ...


def _event_row(event: CanonicalEvent, content_hash: str) -> dict[str, Any]:
    return {
        "hub_id": event.hub_id,
        "agency_id": event.agency_id,
        "source_id": event.source_id,
        "type": event.type,
        "event_time": event.time,
        "recorded_at": event.recorded_at,
        "partition_key": event.victim_token,
        "content_hash": content_hash,
        "body": event.to_json(),
    }


class SqlEventStore:
    """Event store on SQLAlchemy (SQLite or PostgreSQL). Rows are inserted, never updated.

    sealer: seals what ingress marked Unsealed as the events are stored; without one, such
    an event cannot be stored (it does not serialise).
    """

    def __init__(self, engine: Engine, sealer: Sealer | None = None) -> None:
        self._engine = engine
        self._sealer = sealer

    @property
    def engine(self) -> Engine:
        return self._engine

    def append(self, event: CanonicalEvent, content_hash: str, topic: str) -> AppendResult:
        """Store the event and its outbox row atomically; a repeated event id is stored once."""
        return self.append_many([(event, content_hash, topic)])[0]

    def append_many(self, items: Sequence[tuple[CanonicalEvent, str, str]]) -> list[AppendResult]:
        """Append several events in one transaction (group commit), each at most once.

        Results are in the order given. An (agency, event id) already stored, or repeated
        within items, is not stored again; its result says whether the content matched.
        """
        try:
            return self._append_many(items)
        except IntegrityError:
            if len(items) == 1:
                # another writer stored the same (agency, id) between our check and insert
                event, content_hash, _topic = items[0]
                existing = self._content_hash(event.agency_id, event.source_id)
                if existing is None:
                    raise
                return [AppendResult(event.hub_id, False, existing == content_hash)]
            return [r for item in items for r in self.append_many([item])]

    def _append_many(self, items: Sequence[tuple[CanonicalEvent, str, str]]) -> list[AppendResult]:
        with self._engine.begin() as conn:
            known: dict[tuple[str, str], str] = {
                (a, s): h
                for a, s, h in conn.execute(
                    _KNOWN,
                    {
                        "agency_ids": sorted({e.agency_id for e, _, _ in items}),
                        "source_ids": sorted({e.source_id for e, _, _ in items}),
                    },
                )
            }
            results: list[AppendResult] = []
            fresh: list[tuple[CanonicalEvent, str, str]] = []
            for event, content_hash, topic in items:
                ident = (event.agency_id, event.source_id)
                if ident in known:
                    results.append(AppendResult(event.hub_id, False, known[ident] == content_hash))
                    continue
                known[ident] = content_hash
                results.append(AppendResult(event.hub_id, True, True))
                fresh.append((event, content_hash, topic))
            sealed = [e for e, _, _ in fresh]
            if self._sealer is not None and sealed:
                sealed = self._sealer.seal_in(conn, sealed)
            new_rows = [_event_row(e, h) for e, (_, h, _) in zip(sealed, fresh, strict=True)]
            if new_rows:
                _insert_with_outbox(conn, new_rows, [t for _, _, t in fresh])
        return results

    def _content_hash(self, agency_id: str, source_id: str) -> str | None:
        with self._engine.connect() as conn:
            return conn.execute(
                select(events.c.content_hash).where(
                    events.c.agency_id == agency_id, events.c.source_id == source_id
                )
            ).scalar_one_or_none()

    def get(self, hub_id: str) -> CanonicalEvent | None:
        with self._engine.connect() as conn:
            body = conn.execute(
                select(events.c.body).where(events.c.hub_id == hub_id)
            ).scalar_one_or_none()
        return None if body is None else CanonicalEvent.from_json(body)

    def for_subject(self, token: str, limit: int = 500) -> list[CanonicalEvent]:
        """The events processed under this subject's token (its own timeline), oldest first."""
        with self._engine.connect() as conn:
            bodies = conn.execute(
                select(events.c.body)
                .where(events.c.partition_key == token)
                .order_by(events.c.event_time, events.c.seq)
                .limit(limit)
            ).scalars()
            return [CanonicalEvent.from_json(b) for b in bodies]

    def of_types(self, types: Sequence[str], batch: int = 1000) -> Iterator[CanonicalEvent]:
        """Every stored event of these types, in store order (e.g. what opens and closes cases)."""
        after = 0
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(events.c.seq, events.c.body)
                    .where(events.c.seq > after, events.c.type.in_(list(types)))
                    .order_by(events.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield from (CanonicalEvent.from_json(body) for _, body in rows)
            after = rows[-1][0]

    def read(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[int, CanonicalEvent]]:
        """Events in store order after after_seq, for replay."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.body)
                .where(events.c.seq > after_seq)
                .order_by(events.c.seq)
                .limit(limit)
            ).all()
        return [(seq, CanonicalEvent.from_json(body)) for seq, body in rows]

    def read_all(self, batch: int = 1000) -> Iterator[CanonicalEvent]:
        after = 0
        while rows := self.read(after, batch):
            after = rows[-1][0]
            yield from (e for _, e in rows)

    def for_tokens(self, tokens: Sequence[str]) -> list[tuple[int, CanonicalEvent]]:
        """Every event naming any of these tokens (a family's history), in store order."""
        with self._engine.connect() as conn:
            return events_for_tokens(conn, tokens)

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    # --- outbox -----------------------------------------------------------------------------

    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.event_seq
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(limit)
            ).all()
        return [OutboxRow(*r) for r in rows]

    def mark_published(self, seqs: list[int]) -> None:
        if not seqs:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.seq.in_(seqs)).values(published_at=datetime.now(UTC))
            )

    def unpublished_count(self) -> int:
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                ).scalar_one()
            )


# by agency and id, so the unique index (agency_id, source_id) answers it: by id alone it
# read the whole table for every batch
_KNOWN = select(events.c.agency_id, events.c.source_id, events.c.content_hash).where(
    events.c.agency_id.in_(bindparam("agency_ids", expanding=True)),
    events.c.source_id.in_(bindparam("source_ids", expanding=True)),
)
# One statement each, whatever the batch's size: RETURNING makes SQLAlchemy send the rows
# as one multi-row INSERT (insertmanyvalues) from its cached compiled form. The events'
# seqs come back matched by hub_id, not by position: asking for parameter order instead
# makes SQLite insert row by row, one round trip per event.
_INSERT_EVENTS = insert(events).returning(events.c.seq, events.c.hub_id)
_INSERT_OUTBOX = insert(outbox).returning(outbox.c.seq)


def _insert_with_outbox(conn: Connection, rows: list[dict[str, Any]], topics: list[str]) -> None:
    """Insert the events and their outbox rows, the outbox in store (seq) order."""
    seq_of = {hub_id: seq for seq, hub_id in conn.execute(_INSERT_EVENTS, rows)}
    entries = sorted(
        (seq_of[row["hub_id"]], topic, row) for row, topic in zip(rows, topics, strict=True)
    )
    conn.execute(
        _INSERT_OUTBOX,
        [
            {"event_seq": seq, "topic": topic, "key": row["partition_key"], "value": row["body"]}
            for seq, topic, row in entries
        ],
    )


def events_for_tokens(conn: Connection, tokens: Sequence[str]) -> list[tuple[int, CanonicalEvent]]:
    """events_for_tokens inside the caller's transaction (replay links and projects in one)."""
    seqs: set[int] = set()
    for i in range(0, len(tokens), 500):
        part = tokens[i : i + 500]
        seqs |= set(
            conn.execute(select(event_tokens.c.seq).where(event_tokens.c.token.in_(part))).scalars()
        )
    ordered = sorted(seqs)
    out: list[tuple[int, CanonicalEvent]] = []
    for i in range(0, len(ordered), 500):
        rows = conn.execute(
            select(events.c.seq, events.c.body)
            .where(events.c.seq.in_(ordered[i : i + 500]))
            .order_by(events.c.seq)
        ).all()
        out += [(seq, CanonicalEvent.from_json(body)) for seq, body in rows]
    return out
