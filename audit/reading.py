"""Streaming audit records out of the audit tables in seq order.

Shared by the store (SqlAuditStore.record_batches) and the worker processes of a parallel
verification (audit.parallel), which open their own engine and need no store: keeping the
query here lets the store import the parallel verifier without the verifier importing the store.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import cast

from sqlalchemy import Engine, select

from audit.chain import ChainedRecord
from audit.schema import audit_records

RECORD_COLUMNS = (
    audit_records.c.seq,
    audit_records.c.record_id,
    audit_records.c.body,
    audit_records.c.prev_hash,
    audit_records.c.hash,
)


def record_batches(
    engine: Engine, upto: int | None = None, batch: int = 10_000, after: int | None = None
) -> Generator[Sequence[ChainedRecord]]:
    """Records after seq `after` up to seq `upto`, in seq order, streamed in batches.

    The rows are handed over as the driver's tuples (same fields and order as ChainedRecord):
    verifying a million records should not build a million objects.
    """
    query = select(*RECORD_COLUMNS).order_by(audit_records.c.seq)
    if upto is not None:
        query = query.where(audit_records.c.seq <= upto)
    if after is not None:
        query = query.where(audit_records.c.seq > after)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(query)
        try:
            for part in result.partitions():
                yield cast(Sequence[ChainedRecord], part)
        finally:  # closes PostgreSQL's server-side cursor when the reader stops early
            result.close()
