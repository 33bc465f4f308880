"""The SQL audit store: appends chained records, never updates or deletes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, insert, select, update

from audit.chain import (
    GENESIS_HASH,
    AuditError,
    ChainedRecord,
    VerifyResult,
    canonical_json,
    chain_next,
    verify_chain,
)
from hub.store.schema import audit_head, audit_records


class SqlAuditStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def ensure_head(self) -> None:
        with self._engine.begin() as conn:
            if conn.execute(select(audit_head.c.id)).first() is None:
                conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH))

    def append(self, body: dict[str, Any]) -> ChainedRecord:
        """Append one record; raise AuditError if it could not be written (fail closed)."""
        record_id = str(uuid.uuid4())
        text = canonical_json({**body, "record_id": record_id})
        try:
            with self._engine.begin() as conn:
                # Touch the head first: takes SQLite's write lock / PostgreSQL's row lock, so
                # concurrent appenders queue here and each links to the true previous record.
                conn.execute(update(audit_head).where(audit_head.c.id == 1).values(id=1))
                head = conn.execute(
                    select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                ).one()
                rec = chain_next(head.seq, head.hash, record_id, text)
                conn.execute(
                    insert(audit_records).values(
                        seq=rec.seq,
                        record_id=rec.record_id,
                        body=rec.body,
                        prev_hash=rec.prev_hash,
                        hash=rec.hash,
                    )
                )
                conn.execute(
                    update(audit_head)
                    .where(audit_head.c.id == 1)
                    .values(seq=rec.seq, hash=rec.hash)
                )
        except Exception as exc:  # any failure means the disclosure must not happen
            raise AuditError(f"the audit record could not be written: {exc}") from exc
        return rec

    def records(self, batch: int = 5000) -> Iterator[ChainedRecord]:
        after = -1
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(audit_records)
                    .where(audit_records.c.seq > after)
                    .order_by(audit_records.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for r in rows:
                yield ChainedRecord(r.seq, r.record_id, r.body, r.prev_hash, r.hash)
            after = rows[-1].seq

    def head(self) -> tuple[int, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
        return None if row is None else (row.seq, row.hash)

    def verify(self) -> VerifyResult:
        return verify_chain(self.records(), self.head())
