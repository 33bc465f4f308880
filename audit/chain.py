"""The audit hash chain: pure functions, no storage.

Each record's hash is SHA-256 over the previous record's hash, the record's sequence number
and id, and its canonical JSON body, so editing, removing, inserting or reordering any
record breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


class AuditError(Exception):
    """The audit log cannot be written or does not verify; the message says where."""


@dataclass(frozen=True)
class ChainedRecord:
    seq: int
    record_id: str
    body: str  # canonical JSON of the disclosure
    prev_hash: str
    hash: str


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, seq: int, record_id: str, body: str) -> str:
    """SHA-256 over the previous hash, this record's position and id, and its body: every
    stored column of the record is bound by the hash."""
    header = f"{seq}\n{record_id}\n".encode()
    return hashlib.sha256(bytes.fromhex(prev_hash) + header + body.encode("utf-8")).hexdigest()


def chain_next(prev_seq: int, prev_hash: str, record_id: str, body: str) -> ChainedRecord:
    """The record that follows (prev_seq, prev_hash) in the chain."""
    seq = prev_seq + 1
    return ChainedRecord(
        seq, record_id, body, prev_hash, link_hash(prev_hash, seq, record_id, body)
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    problem: str | None = None
    bad_seq: int | None = None
    bad_record_id: str | None = None


def verify_chain(
    records: Iterable[ChainedRecord], head: tuple[int, str] | None = None
) -> VerifyResult:
    """Check the records in order; name the first that breaks the chain.

    head, when given, is the (seq, hash) the store says the chain ends at: it catches a
    removed tail that the links alone cannot show.
    """
    prev_seq, prev_hash, n = 0, GENESIS_HASH, 0
    for r in records:
        n += 1
        bad = _first_problem(r, prev_seq, prev_hash)
        if bad:
            return VerifyResult(False, n - 1, bad, r.seq, r.record_id)
        prev_seq, prev_hash = r.seq, r.hash
    if head is not None and head != (prev_seq, prev_hash):
        return VerifyResult(
            False,
            n,
            f"the chain ends at record {prev_seq} but the head says {head[0]}: "
            "records after it were removed, or the head was altered",
            prev_seq + 1,
            None,
        )
    return VerifyResult(True, n)


def _first_problem(r: ChainedRecord, prev_seq: int, prev_hash: str) -> str | None:
    if r.seq != prev_seq + 1:
        return f"record {r.seq} follows record {prev_seq}: records were removed or reordered"
    if r.prev_hash != prev_hash:
        return (
            f"record {r.seq} does not link to record {prev_seq}: a record was removed or inserted"
        )
    if link_hash(r.prev_hash, r.seq, r.record_id, r.body) != r.hash:
        return f"record {r.seq} does not match its hash: its contents were edited"
    return None
