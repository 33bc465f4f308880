"""One segment of the log, checked on its own: records start+1 .. start+2**bits.

Segments start at multiples of a power of two, so each one's Merkle nodes sit below every node
of the records before it: the tree head at any size is the nodes of the complete segments
before it followed by the segment's own nodes up to that size (audit.merkle.CompactRange).
That lets segments be checked in any order, in several processes, and combined exactly
(audit.verify.combine) into the verdict a single pass would give.

The link from a segment's first record to the record before it is the one thing a segment
cannot check alone; the report carries that record so the combining step can.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.chain import ChainBreak, ChainedRecord, ChainWalker, entry_bytes
from audit.merkle import LEAF_PREFIX, CompactRange

SEGMENT_BITS = 16  # 65,536 records a segment
SLICE = 1024  # records hashed then compared while they are still in the CPU cache


def segment_bounds(upto: int, bits: int = SEGMENT_BITS) -> list[tuple[int, int]]:
    """(start, end) seq ranges, start exclusive, covering records 1..upto."""
    width = 1 << bits
    return [(start, min(start + width, upto)) for start in range(0, upto, width)] or [(0, 0)]


@dataclass(frozen=True)
class CheckpointNodes:
    """What a segment knows about the tree at one checkpoint's size."""

    tree_size: int
    nodes: tuple[bytes, ...]  # compact range of the segment's leaves up to tree_size
    chain_head: str  # hash of record tree_size


@dataclass(frozen=True)
class SegmentReport:
    start: int  # records before the segment
    first: ChainedRecord | None  # None: the segment holds no records
    first_digest: bytes  # leaf hash computed from `first` (empty if there is none)
    end: int  # seq of the last record that verified (start if none did)
    last_hash: str  # its hash
    nodes: tuple[bytes, ...]  # compact range of the verified leaves
    at: tuple[CheckpointNodes, ...]
    broken: ChainBreak | None


class SegmentChecker:
    """Feed a segment's records in order; report() says what verified."""

    def __init__(self, start: int, checkpoint_sizes: Iterable[int]) -> None:
        self.start = start
        self._sizes = sorted(s for s in set(checkpoint_sizes) if s > start)
        self._next = 0
        self._walker: ChainWalker | None = None
        self._first: ChainedRecord | None = None
        self._first_digest = b""
        self._tree = CompactRange()
        self._at: list[CheckpointNodes] = []
        self.broken: ChainBreak | None = None

    def feed(self, records: Sequence[ChainedRecord]) -> bool:
        """Check more records; False once the chain broke (later records are not looked at)."""
        for k in range(0, len(records), SLICE):
            if self.broken:
                return False
            part = records[k : k + SLICE]
            if self._walker is None:
                first = self._first = ChainedRecord._make(part[0])
                self._first_digest = _leaf(first)
                self._walker = ChainWalker(self.start, first.prev_hash)
            digests, self.broken = self._walker.check(part)
            self._absorb(digests)
        return self.broken is None

    def _absorb(self, digests: list[bytes]) -> None:
        tree, i = self._tree, 0
        while i < len(digests):
            upto = len(digests) - i
            if self._next < len(self._sizes):
                upto = min(upto, self._sizes[self._next] - self.start - tree.size)
            tree.extend(digests[i : i + upto])
            i += upto
            if self._next < len(self._sizes) and self.start + tree.size == self._sizes[self._next]:
                head = digests[i - 1].hex()
                self._at.append(CheckpointNodes(self._sizes[self._next], tuple(tree.nodes), head))
                self._next += 1

    def report(self) -> SegmentReport:
        walker = self._walker
        return SegmentReport(
            self.start,
            self._first,
            self._first_digest,
            walker.seq if walker else self.start,
            walker.hash if walker else "",
            tuple(self._tree.nodes),
            tuple(self._at),
            self.broken,
        )


def _leaf(r: ChainedRecord) -> bytes:
    return hashlib.sha256(
        LEAF_PREFIX + entry_bytes(r.prev_hash, r.seq, r.record_id, r.body)
    ).digest()


def check_segment(
    batches: Iterable[Sequence[ChainedRecord]], start: int, checkpoint_sizes: Iterable[int]
) -> SegmentReport:
    """Check one segment's records (batches in seq order) on their own."""
    checker = SegmentChecker(start, checkpoint_sizes)
    for batch in batches:
        if not checker.feed(batch):
            break
    return checker.report()
