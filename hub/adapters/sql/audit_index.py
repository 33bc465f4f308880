"""The IG index of the audit log: the columns an IG officer searches by, in SQL, so that a
search over a million records reads an index range instead of every record.

Each record gets one audit_index row (time, reader, role, agency, purpose, decision, outcome,
action) and one row per subject token and per lawful basis, written by the audit store inside
the append's transaction (audit.store.RecordIndexer), and back-filled by catch_up for records
written before the index existed or by a process that had no indexer. The record itself stays
in audit_records, the only thing the chain and the proofs cover; the index can always be
rebuilt from it.

A search drives from the most selective list it is given (a subject, else a basis, else the
main table), filters the rest, and reads newest first along an index that ends in (at, seq),
so a page costs its own rows, not the log's size. Pages are cut by keyset (the last row's
time and seq), never by OFFSET.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from audit.chain import ChainedRecord
from audit.ig import AuditEntry, decision_of
from audit.reading import RECORD_COLUMNS, record_batches
from audit.schema import audit_records
from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import audit_index, audit_index_bases, audit_index_subjects

_COLUMNS = ("principal_id", "role", "agency_id", "purpose", "decision")
MAX_PAGE = 200


@dataclass(frozen=True)
class IndexQuery:
    """What to look for; None matches anything. since inclusive, until exclusive.
    after: the (time, seq) of the last row of the previous page, for the next one."""

    subject: str | None = None
    principal_id: str | None = None
    role: str | None = None
    agency_id: str | None = None
    purpose: str | None = None
    basis: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, int] | None = None
    limit: int = 50


@dataclass(frozen=True)
class IndexedRecord:
    seq: int
    record_id: str
    at: datetime
    principal_id: str | None
    role: str | None
    agency_id: str | None
    purpose: str | None
    decision: str
    outcome: str
    action: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class IndexPage:
    records: list[IndexedRecord]
    next_after: tuple[datetime, int] | None  # None: this was the last page


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time_of(entry: AuditEntry) -> datetime:
    # The log takes any body; the hub's all have an ISO time. One without is indexed as of
    # now rather than refused: indexing must never stop a record being written.
    try:
        return _utc(entry.time)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:80]


def index_rows(
    records: Sequence[ChainedRecord],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of audit_index, audit_index_subjects and audit_index_bases for records."""
    main, subjects, bases = [], [], []
    for record in records:
        entry = AuditEntry(record.seq, record.record_id, json.loads(record.body))
        body, at = entry.body, _time_of(entry)
        main.append({
            "seq": entry.seq, "record_id": entry.record_id, "at": at,
            **{c: _text(body.get(c)) for c in _COLUMNS if c != "decision"},
            "decision": decision_of(entry), "outcome": str(body.get("outcome", ""))[:40],
            "action": str(body.get("action", ""))[:200],
        })  # fmt: skip
        subjects += [{"token": t, "at": at, "seq": entry.seq} for t in sorted(set(entry.subjects))]
        bases += [
            {"basis": b, "at": at, "seq": entry.seq}
            for b in sorted(set(body.get("lawful_bases") or []))
        ]
    return main, subjects, bases


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]], skip_seen: bool) -> None:
    if not rows:
        return
    if not skip_seen:
        conn.execute(table.insert(), rows)
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


class SqlAuditIndex:
    """audit.store.RecordIndexer for the audit store, and the IG search over what it keeps."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def index(self, conn: Connection, records: Sequence[ChainedRecord]) -> None:
        self._write(conn, records, skip_seen=False)

    def _write(self, conn: Connection, records: Sequence[ChainedRecord], skip_seen: bool) -> None:
        main, subjects, bases = index_rows(records)
        _insert(conn, audit_index, main, skip_seen)
        _insert(conn, audit_index_subjects, subjects, skip_seen)
        _insert(conn, audit_index_bases, bases, skip_seen)

    def indexed_upto(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(audit_index.c.seq))).scalar() or 0)

    def catch_up(self, batch: int = 5000) -> int:
        """Index every record after the highest indexed one; how many were indexed.

        Safe beside appenders that index as they write: a row already there is skipped."""
        done = 0
        for records in record_batches(self._engine, None, batch, self.indexed_upto()):
            with self._engine.begin() as conn:
                self._write(conn, records, skip_seen=True)
            done += len(records)
        return done

    def search(self, q: IndexQuery) -> IndexPage:
        limit = max(1, min(q.limit, MAX_PAGE))
        with self._engine.connect() as conn:
            rows = conn.execute(_query(q, limit + 1)).all()
            subjects = _subjects_of(conn, [r.seq for r in rows[:limit]])
        records = [
            IndexedRecord(
                r.seq, r.record_id, as_utc(r.at), r.principal_id, r.role, r.agency_id,
                r.purpose, r.decision, r.outcome, r.action, subjects.get(r.seq, ()),
            )
            for r in rows[:limit]
        ]  # fmt: skip
        more = len(rows) > limit
        return IndexPage(records, (records[-1].at, records[-1].seq) if more else None)

    def matching(
        self, *, subject: str | None = None, since: datetime | None = None,
        until: datetime | None = None, outcome: str | None = None, batch: int = 5000,
    ) -> Iterator[ChainedRecord]:  # fmt: skip
        """audit.igstore.RecordFinder: the records naming subject, in [since, until), of that
        outcome, in seq order, read along the index (caught up first) instead of the log."""
        self.catch_up()
        driver = audit_index_subjects if subject is not None else audit_index
        stmt = select(*RECORD_COLUMNS).select_from(
            driver.join(audit_records, audit_records.c.seq == driver.c.seq)
        )
        if subject is not None:
            stmt = stmt.where(driver.c.token == subject)
        if outcome is not None:
            if driver is not audit_index:
                stmt = stmt.join(audit_index, audit_index.c.seq == driver.c.seq)
            stmt = stmt.where(audit_index.c.outcome == outcome)
        if since is not None:
            stmt = stmt.where(driver.c.at >= _utc(since))
        if until is not None:
            stmt = stmt.where(driver.c.at < _utc(until))
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(
                stmt.order_by(audit_records.c.seq)
            )
            try:
                for part in result.partitions():
                    yield from part  # type: ignore[misc]
            finally:
                result.close()

    def find(self, record_id: str) -> IndexedRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(audit_index).where(audit_index.c.record_id == record_id)
            ).first()
            if row is None:
                return None
            subjects = _subjects_of(conn, [row.seq])
        return IndexedRecord(
            row.seq, row.record_id, as_utc(row.at), row.principal_id, row.role, row.agency_id,
            row.purpose, row.decision, row.outcome, row.action, subjects.get(row.seq, ()),
        )  # fmt: skip


def _query(q: IndexQuery, limit: int) -> Select[Any]:
    """Drive from the subject's rows, else the basis's, else the main table: each is read
    along an index ending (at, seq), newest first."""
    driver = audit_index
    stmt = select(audit_index)
    if q.subject is not None:
        driver = audit_index_subjects
        stmt = stmt.where(driver.c.token == q.subject)
    elif q.basis is not None:
        driver = audit_index_bases
        stmt = stmt.where(driver.c.basis == q.basis)
    at, seq = driver.c.at, driver.c.seq
    if driver is not audit_index:
        stmt = stmt.select_from(driver.join(audit_index, audit_index.c.seq == driver.c.seq))
    if q.subject is not None and q.basis is not None:
        stmt = stmt.where(
            select(audit_index_bases.c.seq)
            .where(audit_index_bases.c.basis == q.basis, audit_index_bases.c.seq == seq)
            .exists()
        )
    for column in _COLUMNS:
        wanted = getattr(q, column)
        if wanted is not None:
            stmt = stmt.where(audit_index.c[column] == wanted)
    if q.since is not None:
        stmt = stmt.where(at >= _utc(q.since))
    if q.until is not None:
        stmt = stmt.where(at < _utc(q.until))
    if q.after is not None:
        last_at, last_seq = _utc(q.after[0]), q.after[1]
        stmt = stmt.where(or_(at < last_at, and_(at == last_at, seq < last_seq)))
    return stmt.order_by(at.desc(), seq.desc()).limit(limit)


def _subjects_of(conn: Connection, seqs: list[int]) -> dict[int, tuple[str, ...]]:
    if not seqs:
        return {}
    found: dict[int, list[str]] = {}
    rows = conn.execute(
        select(audit_index_subjects.c.seq, audit_index_subjects.c.token).where(
            audit_index_subjects.c.seq.in_(seqs)
        )
    )
    for seq, token in rows:
        found.setdefault(seq, []).append(token)
    return {s: tuple(sorted(t)) for s, t in found.items()}
