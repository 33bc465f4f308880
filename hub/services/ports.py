"""The ports services depend on, named by role: the event store, the audit log and the store
of subject data keys. SQL adapters implement them (SqlEventStore, SqlAuditStore, SqlKeyStore);
hub/adapters/memory.py holds in-memory fakes for tests, passed in rather than patched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from audit.chain import ChainedRecord
from hub.adapters.sql.events import AppendResult, OutboxRow
from hub.domain.events import CanonicalEvent


class EventStore(Protocol):
    """Append-only store of canonical events, each with its outbox row, at most once per
    (agency, event id)."""

    def append(self, event: CanonicalEvent, content_hash: str, topic: str) -> AppendResult: ...

    def append_many(
        self, items: Sequence[tuple[CanonicalEvent, str, str]]
    ) -> list[AppendResult]: ...

    def get(self, hub_id: str) -> CanonicalEvent | None: ...

    def for_subject(self, token: str, limit: int = 500) -> list[CanonicalEvent]: ...

    def of_types(self, types: Sequence[str], batch: int = 1000) -> Iterator[CanonicalEvent]: ...

    def read(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[int, CanonicalEvent]]: ...

    def read_all(self, batch: int = 1000) -> Iterator[CanonicalEvent]: ...

    def count(self) -> int: ...

    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]: ...

    def mark_published(self, seqs: list[int]) -> None: ...

    def unpublished_count(self) -> int: ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log: append raises audit.chain.AuditError when
    the record cannot be written, and the caller then shows nothing (fail closed)."""

    def append(self, body: dict[str, Any]) -> ChainedRecord: ...

    def records(self, batch: int = 5000) -> Iterator[ChainedRecord]: ...


class KeyStore(Protocol):
    """Subject data keys: made on first use, destroyed on erasure."""

    def key_for(self, token: str) -> bytes: ...

    def existing_key(self, token: str) -> bytes | None: ...

    def erase(self, token: str) -> bool: ...
