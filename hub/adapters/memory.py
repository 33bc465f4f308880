"""In-memory implementations of the ports (hub/services/ports.py), for tests: each behaves as
its SQL counterpart does (the contract suites run on both) and can be passed in through
hub.bootstrap.build_services instead of patching the real one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from audit.chain import GENESIS_HASH, AuditError, ChainedRecord, canonical_json, chain_next
from hub.adapters.sql.events import AppendResult, OutboxRow
from hub.domain.events import CanonicalEvent


@dataclass
class _Stored:
    seq: int
    agency_id: str
    source_id: str
    type: str
    partition_key: str
    content_hash: str
    body: str  # as the SQL store keeps it, so times read back normalised the same way

    def event(self) -> CanonicalEvent:
        return CanonicalEvent.from_json(self.body)


class InMemoryEventStore:
    """The event store in lists and dicts; its outbox rows are kept beside the events."""

    def __init__(self) -> None:
        self._events: list[_Stored] = []
        self._by_hub_id: dict[str, _Stored] = {}
        self._by_source: dict[tuple[str, str], _Stored] = {}
        self._outbox: list[OutboxRow] = []
        self._published: set[int] = set()

    def append(self, event: CanonicalEvent, content_hash: str, topic: str) -> AppendResult:
        return self.append_many([(event, content_hash, topic)])[0]

    def append_many(self, items: Sequence[tuple[CanonicalEvent, str, str]]) -> list[AppendResult]:
        results = []
        for event, content_hash, topic in items:
            known = self._by_source.get((event.agency_id, event.source_id))
            if known is not None:
                results.append(
                    AppendResult(event.hub_id, False, known.content_hash == content_hash)
                )
                continue
            body = event.to_json()
            row = _Stored(
                len(self._events) + 1, event.agency_id, event.source_id, event.type,
                event.victim_token, content_hash, body,
            )  # fmt: skip
            self._events.append(row)
            self._by_hub_id[event.hub_id] = row
            self._by_source[(event.agency_id, event.source_id)] = row
            self._outbox.append(
                OutboxRow(len(self._outbox) + 1, topic, row.partition_key, body, row.seq)
            )
            results.append(AppendResult(event.hub_id, True, True))
        return results

    def get(self, hub_id: str) -> CanonicalEvent | None:
        row = self._by_hub_id.get(hub_id)
        return None if row is None else row.event()

    def for_subject(self, token: str, limit: int = 500) -> list[CanonicalEvent]:
        events = [r.event() for r in self._events if r.partition_key == token]
        return sorted(events, key=lambda e: e.time)[:limit]  # stable: store order among ties

    def of_types(self, types: Sequence[str], batch: int = 1000) -> Iterator[CanonicalEvent]:
        wanted = set(types)
        return (r.event() for r in list(self._events) if r.type in wanted)

    def read(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[int, CanonicalEvent]]:
        return [(r.seq, r.event()) for r in self._events[after_seq : after_seq + limit]]

    def read_all(self, batch: int = 1000) -> Iterator[CanonicalEvent]:
        return (r.event() for r in list(self._events))

    def count(self) -> int:
        return len(self._events)

    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]:
        return [r for r in self._outbox if r.seq not in self._published][:limit]

    def mark_published(self, seqs: list[int]) -> None:
        self._published.update(seqs)

    def unpublished_count(self) -> int:
        return len(self._outbox) - len(self._published)


class InMemoryAuditLog:
    """A hash-chained audit log in a list. Set ``unavailable`` to make appends fail as a
    database outage would (AuditError, nothing written)."""

    def __init__(self) -> None:
        self._records: list[ChainedRecord] = []
        self.unavailable = False

    def append(self, body: dict[str, Any]) -> ChainedRecord:
        if self.unavailable:
            raise AuditError("the audit record could not be written: audit log unavailable")
        record_id = str(uuid.uuid4())
        last = self._records[-1] if self._records else None
        rec = chain_next(
            last.seq if last else 0,
            last.hash if last else GENESIS_HASH,
            record_id,
            canonical_json({**body, "record_id": record_id}),
        )
        self._records.append(rec)
        return rec

    def records(self, batch: int = 5000) -> Iterator[ChainedRecord]:
        return iter(list(self._records))


class InMemoryKeyStore:
    """Subject data keys in a dict; an erased subject keeps its entry as None."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}

    def key_for(self, token: str) -> bytes:
        key = self._keys.get(token)
        if key is None:
            key = self._keys[token] = os.urandom(32)
        return key

    def existing_key(self, token: str) -> bytes | None:
        return self._keys.get(token)

    def erase(self, token: str) -> bool:
        if self._keys.get(token) is None:
            return False
        self._keys[token] = None
        return True
