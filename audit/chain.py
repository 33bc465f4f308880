"""The audit hash chain: pure functions, no storage.

A record's *entry* is the UTF-8 text ``prev_hash \\n seq \\n record_id \\n body`` (the previous
record's hash in hex, this record's position and id, its canonical JSON body). Its hash is
SHA-256(0x00 || entry): the chain link and, at the same time, the record's RFC 6962 leaf hash,
so the chain and the Merkle tree (audit.merkle) share one hash per record and any RFC 6962
verifier handed the entry can check an inclusion proof. Editing, removing, inserting or
reordering any record breaks every later link.

Why the entry is the leaf data: the body alone would leave a record's seq, id and place in the
chain out of what a proof proves; the chain hash as leaf data (a leaf hash of a hash) would cost
a second SHA-256 per record in every verification, and a proof would still have to carry the
entry for anyone to see what the record says. Revealing the entry reveals the previous record's
hash, which says nothing about that record (its body holds a random uuid).

Verification is the hot path (a million records must verify at a good fraction of raw SHA-256
speed), so ChainWalker checks a batch with a few C-level comparisons and one list
comprehension of hashes, and looks record by record only when a batch is bad.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple

from audit.errors import AuditError

__all__ = [
    "GENESIS_HASH",
    "AuditError",
    "ChainBreak",
    "ChainWalker",
    "ChainedRecord",
    "VerifyResult",
    "canonical_json",
    "chain_next",
    "entry_bytes",
    "first_problem",
    "head_problem",
    "link_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
BATCH = 4096
# columns by position, so rows straight from the store need not become ChainedRecords
_SEQ, _PREV, _HASH = itemgetter(0), itemgetter(3), itemgetter(4)

_sha256 = hashlib.sha256


class ChainedRecord(NamedTuple):
    """One stored record. A tuple, so rows from the store can be checked without copying."""

    seq: int
    record_id: str
    body: str  # canonical JSON of the disclosure
    prev_hash: str
    hash: str


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_bytes(prev_hash: str, seq: int, record_id: str, body: str) -> bytes:
    """The record's leaf data: every stored column but its own hash, in a fixed layout."""
    return f"{prev_hash}\n{seq}\n{record_id}\n{body}".encode()


def link_hash(prev_hash: str, seq: int, record_id: str, body: str) -> str:
    """SHA-256(0x00 || entry): the chain link and the RFC 6962 leaf hash of the record."""
    return _sha256(b"\x00" + entry_bytes(prev_hash, seq, record_id, body)).hexdigest()


def chain_next(prev_seq: int, prev_hash: str, record_id: str, body: str) -> ChainedRecord:
    """The record that follows (prev_seq, prev_hash) in the chain."""
    if "\n" in record_id:
        raise ValueError("a record id may not contain a newline: it separates entry fields")
    seq = prev_seq + 1
    return ChainedRecord(
        seq, record_id, body, prev_hash, link_hash(prev_hash, seq, record_id, body)
    )


@dataclass(frozen=True)
class ChainBreak:
    problem: str
    seq: int
    record_id: str


class ChainWalker:
    """Checks records in order, batch by batch, and hands back their leaf hashes."""

    def __init__(self, seq: int = 0, last_hash: str = GENESIS_HASH) -> None:
        self.seq = seq
        self.hash = last_hash

    def check(self, batch: Sequence[ChainedRecord]) -> tuple[list[bytes], ChainBreak | None]:
        """Leaf hashes of the records that verify, and the first break if there is one."""
        if not batch:
            return [], None
        # "\x00" encodes to the single byte 0x00: the RFC 6962 leaf prefix.
        digests = [_sha256(f"\x00{p}\n{s}\n{i}\n{b}".encode()).digest() for s, i, b, p, _ in batch]
        seqs, prevs = list(map(_SEQ, batch)), list(map(_PREV, batch))
        hashes = list(map(_HASH, batch))
        first = self.seq + 1
        if (
            seqs == list(range(first, first + len(batch)))
            and prevs[0] == self.hash
            and prevs[1:] == hashes[:-1]
            and list(map(bytes.hex, digests)) == hashes
        ):
            self.seq, self.hash = seqs[-1], hashes[-1]
            return digests, None
        return self._find_break(batch, digests)

    def _find_break(
        self, batch: Sequence[ChainedRecord], digests: list[bytes]
    ) -> tuple[list[bytes], ChainBreak | None]:
        for k, r in enumerate(batch):
            problem = first_problem(r, digests[k], self.seq, self.hash)
            if problem:
                return digests[:k], ChainBreak(problem, r.seq, r.record_id)
            self.seq, self.hash = r.seq, r.hash
        return digests, None


def first_problem(r: ChainedRecord, digest: bytes, prev_seq: int, prev_hash: str) -> str | None:
    """Why r cannot follow record prev_seq (hash prev_hash); digest is r's leaf hash."""
    if r.seq != prev_seq + 1:
        return f"record {r.seq} follows record {prev_seq}: records were removed or reordered"
    if r.prev_hash != prev_hash:
        return (
            f"record {r.seq} does not link to record {prev_seq}: a record was removed or inserted"
        )
    if digest.hex() != r.hash:
        return f"record {r.seq} does not match its hash: its contents were edited"
    return None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    problem: str | None = None
    bad_seq: int | None = None
    bad_record_id: str | None = None
    checkpoints: int = 0  # checkpoints whose root and signature were checked
    bad_checkpoint: int | None = None  # tree size of the first bad checkpoint


def head_problem(seq: int, last_hash: str, head: tuple[int, str]) -> str | None:
    if head == (seq, last_hash):
        return None
    return (
        f"the chain ends at record {seq} but the head says {head[0]}: "
        "records after it were removed, or the head was altered"
    )


def verify_chain(
    records: Iterable[ChainedRecord], head: tuple[int, str] | None = None
) -> VerifyResult:
    """Check the records in order; name the first that breaks the chain.

    head, when given, is the (seq, hash) the store says the chain ends at: it catches a
    removed tail that the links alone cannot show.
    """
    walker, it = ChainWalker(), iter(records)
    while batch := list(islice(it, BATCH)):
        _digests, broken = walker.check(batch)
        if broken:
            return VerifyResult(False, walker.seq, broken.problem, broken.seq, broken.record_id)
    if head is not None and (problem := head_problem(walker.seq, walker.hash, head)):
        return VerifyResult(False, walker.seq, problem, walker.seq + 1, None)
    return VerifyResult(True, walker.seq)
