"""The SQL audit store: appends chained records and signed checkpoints, never updates them.

Tables and triggers are in audit.schema; the pure parts (chain, Merkle tree, checkpoints,
verification) in their own modules. A checkpoint is written in the same transaction as every
`checkpoint_every`-th record, and on demand; each is then handed to the publisher (Kafka in
the hub), whose failure is logged but never fails the append: the checkpoint is already in
the database and `hub audit publish-checkpoints` sends it again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from audit.chain import GENESIS_HASH, ChainedRecord, VerifyResult, canonical_json, chain_next
from audit.checkpoint import Checkpoint, CheckpointSigner
from audit.errors import AuditError, CheckpointError, ProofError
from audit.merkle import CompactRange
from audit.parallel import verify_in_parallel
from audit.reading import RECORD_COLUMNS, record_batches
from audit.schema import audit_checkpoints, audit_head, audit_records
from audit.segments import SEGMENT_BITS
from audit.verify import verify_log

log = logging.getLogger(__name__)


class CheckpointPublisher(Protocol):
    def publish(self, checkpoint: Checkpoint) -> None: ...


class RecordIndexer(Protocol):
    """Keeps a search index of the records (the hub's IG index): called inside the append's
    transaction, so a record and its index row commit together or not at all."""

    def index(self, conn: Connection, records: Sequence[ChainedRecord]) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def checkpoint_row(cp: Checkpoint) -> dict[str, Any]:
    return {
        "tree_size": cp.tree_size,
        "root_hash": cp.root_hash,
        "chain_head": cp.chain_head,
        "signed_at": cp.time,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def _checkpoint_of(row: Row[Any]) -> Checkpoint:
    return Checkpoint(
        row.tree_size, row.root_hash, row.chain_head, row.signed_at, row.key_id, row.signature
    )


class SqlAuditStore:
    def __init__(
        self,
        engine: Engine,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = 1000,
        publisher: CheckpointPublisher | None = None,
        clock: Callable[[], datetime] = _utcnow,
        indexer: RecordIndexer | None = None,
    ) -> None:
        self._engine = engine
        self._indexer = indexer
        self._signer = signer
        self._every = checkpoint_every
        self._publisher = publisher
        self._clock = clock

    def ensure_head(self) -> None:
        with self._engine.begin() as conn:
            if conn.execute(select(audit_head.c.id)).first() is None:
                conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH, frontier=""))

    def append(self, body: dict[str, Any]) -> ChainedRecord:
        """Append one record; raise AuditError if it could not be written (fail closed)."""
        record_id = str(uuid.uuid4())
        text = canonical_json({**body, "record_id": record_id})
        checkpoint = None
        try:
            with self._engine.begin() as conn:
                seq, last_hash, tree = self._lock_head(conn)
                rec = chain_next(seq, last_hash, record_id, text)
                tree.append(bytes.fromhex(rec.hash))
                conn.execute(insert(audit_records).values(rec._asdict()))
                if self._indexer is not None:
                    self._indexer.index(conn, [rec])
                conn.execute(
                    update(audit_head)
                    .where(audit_head.c.id == 1)
                    .values(seq=rec.seq, hash=rec.hash, frontier=tree.to_hex())
                )
                if self._signer is not None and rec.seq % self._every == 0:
                    checkpoint = self._write_checkpoint(conn, self._signer, tree, rec.hash)
        except Exception as exc:  # any failure means the disclosure must not happen
            raise AuditError(f"the audit record could not be written: {exc}") from exc
        if checkpoint is not None:
            self._publish(checkpoint)
        return rec

    def checkpoint(self) -> Checkpoint:
        """Sign a checkpoint at the current head now (or return the one already there)."""
        if self._signer is None:
            raise CheckpointError("this audit store has no signing key, so it cannot checkpoint")
        try:
            with self._engine.begin() as conn:
                seq, last_hash, tree = self._lock_head(conn)
                row = conn.execute(
                    select(audit_checkpoints).where(audit_checkpoints.c.tree_size == seq)
                ).first()
                if row is not None:
                    return _checkpoint_of(row)
                cp = self._write_checkpoint(conn, self._signer, tree, last_hash)
        except Exception as exc:
            raise AuditError(f"the checkpoint could not be written: {exc}") from exc
        self._publish(cp)
        return cp

    def _lock_head(self, conn: Connection) -> tuple[int, str, CompactRange]:
        # Touch the head first: takes SQLite's write lock / PostgreSQL's row lock, so
        # concurrent appenders queue here and each links to the true previous record.
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(id=1))
        head = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash, audit_head.c.frontier).where(
                audit_head.c.id == 1
            )
        ).one()
        return head.seq, head.hash, CompactRange.from_hex(head.seq, head.frontier)

    def _write_checkpoint(
        self, conn: Connection, signer: CheckpointSigner, tree: CompactRange, chain_head: str
    ) -> Checkpoint:
        cp = signer.sign(tree.size, tree.root(), chain_head, self._clock())
        conn.execute(insert(audit_checkpoints).values(checkpoint_row(cp)))
        return cp

    def _publish(self, cp: Checkpoint) -> None:
        if self._publisher is None:
            return
        try:
            self._publisher.publish(cp)
        except Exception as exc:  # the checkpoint is stored; publishing again is safe
            log.warning("checkpoint at tree size %d not published (%s)", cp.tree_size, exc)

    def records(self, batch: int = 5000) -> Iterator[ChainedRecord]:
        after = -1
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(*RECORD_COLUMNS)
                    .where(audit_records.c.seq > after)
                    .order_by(audit_records.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield from (ChainedRecord._make(r) for r in rows)
            after = rows[-1].seq

    def record_batches(
        self, upto: int | None = None, batch: int = 10_000, after: int | None = None
    ) -> Generator[Sequence[ChainedRecord]]:
        """Records after seq `after` up to seq `upto`, in seq order, streamed in batches."""
        return record_batches(self._engine, upto, batch, after)

    def head(self) -> tuple[int, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
        return None if row is None else (row.seq, row.hash)

    def find(self, record_id: str) -> ChainedRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*RECORD_COLUMNS).where(audit_records.c.record_id == record_id)
            ).first()
        return None if row is None else ChainedRecord._make(row)

    def checkpoints(self) -> list[Checkpoint]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.tree_size))
            return [_checkpoint_of(r) for r in rows]

    def checkpoint_at(self, tree_size: int) -> Checkpoint | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints).where(audit_checkpoints.c.tree_size == tree_size)
            ).first()
        return None if row is None else _checkpoint_of(row)

    def latest_checkpoint(self) -> Checkpoint | None:
        with self._engine.connect() as conn:
            size = conn.execute(select(func.max(audit_checkpoints.c.tree_size))).scalar()
        return None if size is None else self.checkpoint_at(size)

    def leaf_hashes(self, tree_size: int) -> list[bytes]:
        """The leaf hashes of records 1..tree_size (each record's stored hash)."""
        with self._engine.connect() as conn:
            hashes = conn.execute(
                select(audit_records.c.hash)
                .where(audit_records.c.seq <= tree_size)
                .order_by(audit_records.c.seq)
            ).scalars()
            leaves = [bytes.fromhex(h) for h in hashes]
        if len(leaves) != tree_size:
            raise ProofError(
                f"the log holds {len(leaves)} records up to {tree_size}, not {tree_size}: "
                "run `hub audit verify` to find what was removed"
            )
        return leaves

    def verify(
        self,
        public_key: Ed25519PublicKey | None = None,
        external: Iterable[Checkpoint] = (),
        jobs: int = 1,
        bits: int = SEGMENT_BITS,
    ) -> VerifyResult:
        """Verify chain, roots and signatures (public_key None: signatures unchecked).

        external: checkpoints held outside the database (e.g. an earlier export).
        jobs: processes to use when the log spans several segments of 2**bits records.
        """
        # Checkpoints first, then the head, then records up to it: every checkpoint read is
        # at or below the head, and records appended meanwhile are left for the next run.
        checkpoints = list(dict.fromkeys([*self.checkpoints(), *external]))  # drop repeats
        head = self.head()
        upto = head[0] if head is not None else self._last_seq()
        if jobs > 1 and upto > 1 << bits:
            return verify_in_parallel(self._engine, checkpoints, public_key, head, upto, jobs, bits)
        batches = self.record_batches(upto)
        try:
            return verify_log(batches, checkpoints, public_key, head, bits)
        finally:
            batches.close()  # an early failure leaves the query unfinished

    def _last_seq(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(audit_records.c.seq))).scalar() or 0)
