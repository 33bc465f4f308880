"""Whole-log verification: the hash chain, the Merkle root at every checkpoint, and every
checkpoint's signature. Pure: the store feeds it records, or reports of segments checked
elsewhere (audit.segments), possibly in parallel.

What each check catches, against someone with full write access to the database:
- the chain: any edited, removed, inserted or reordered record, naming the first;
- the head row: a removed tail, unless the head was doctored to match;
- checkpoints: a doctored head (the records end before a signed checkpoint), records
  rewritten wholesale with a recomputed chain (the roots no longer match), and edited or
  forged checkpoints (the signatures fail). Checkpoints held outside the hub (published or
  exported) still catch it when the checkpoints table itself was rewritten.
Only records after the newest checkpoint the verifier holds can vanish unseen together with a
doctored head; the checkpoint interval bounds how many.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import GENESIS_HASH, ChainedRecord, VerifyResult, first_problem, head_problem
from audit.checkpoint import Checkpoint, signature_problem
from audit.merkle import CompactRange
from audit.segments import SEGMENT_BITS, SegmentChecker, SegmentReport


def verify_log(
    batches: Iterable[Sequence[ChainedRecord]],
    checkpoints: Iterable[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
    head: tuple[int, str] | None = None,
    bits: int = SEGMENT_BITS,
) -> VerifyResult:
    """Verify records (in seq order, in batches) against the checkpoints; first problem wins.

    public_key None checks roots and chain heads but not signatures (the caller says so).
    """
    checkpoints = list(checkpoints)
    sizes = [c.tree_size for c in checkpoints]
    return combine(_segments(batches, sizes, bits), checkpoints, public_key, head, bits)


def _segments(
    batches: Iterable[Sequence[ChainedRecord]], sizes: list[int], bits: int
) -> Iterator[SegmentReport]:
    """Cut one stream into segments by position: record p (from 0) is in segment p >> bits.

    Up to the first break a record's position and seq agree, so this is the same split the
    store makes by seq ranges; after the first break nothing is looked at.
    """
    width = 1 << bits
    checker, fed = SegmentChecker(0, sizes), 0
    for batch in batches:
        i = 0
        while i < len(batch):
            if fed == width:
                yield checker.report()
                checker, fed = SegmentChecker(checker.start + width, sizes), 0
            part = batch[i : i + width - fed]
            i, fed = i + len(part), fed + len(part)
            if not checker.feed(part):
                yield checker.report()
                return
    yield checker.report()


def combine(
    reports: Iterable[SegmentReport],
    checkpoints: Iterable[Checkpoint],
    public_key: Ed25519PublicKey | None,
    head: tuple[int, str] | None,
    bits: int = SEGMENT_BITS,
) -> VerifyResult:
    """The verdict on the whole log from its segments' reports, taken in order."""
    run = _Combiner(sorted(checkpoints, key=lambda c: c.tree_size), public_key, bits)
    for report in reports:
        if failure := run.add(report):
            return failure
    return run.finish(head)


class _Combiner:
    def __init__(
        self, pending: list[Checkpoint], public_key: Ed25519PublicKey | None, bits: int
    ) -> None:
        self.pending = pending
        self.public_key = public_key
        self.bits = bits
        self.prefix = CompactRange()  # leaves of the complete segments so far
        self.seq, self.hash = 0, GENESIS_HASH
        self.next = 0  # index of the first checkpoint not yet checked
        self.checked = 0
        self.vouched = 0  # tree size of the last good checkpoint

    def add(self, report: SegmentReport) -> VerifyResult | None:
        if failure := self._check_due({0: ((), GENESIS_HASH)}, upto=0):
            return failure
        if report.first is None:
            return None  # nothing stored in this segment's range
        if problem := first_problem(report.first, report.first_digest, self.seq, self.hash):
            return self._broken(problem, report.first.seq, report.first.record_id)
        local = {a.tree_size: (a.nodes, a.chain_head) for a in report.at}
        if failure := self._check_due(local, upto=report.end):
            return failure
        if report.broken:
            b = report.broken
            return self._broken(b.problem, b.seq, b.record_id, records=report.end)
        self.seq, self.hash = report.end, report.last_hash
        if report.end == report.start + (1 << self.bits):
            [node] = report.nodes  # a complete segment is one perfect subtree
            self.prefix.push(node, self.bits)
        return None

    def _check_due(
        self, local: dict[int, tuple[tuple[bytes, ...], str]], upto: int
    ) -> VerifyResult | None:
        while self.next < len(self.pending) and self.pending[self.next].tree_size <= upto:
            cp = self.pending[self.next]
            nodes, chain_head = local[cp.tree_size]
            tree = self.prefix.merged(cp.tree_size - self.prefix.size, nodes)
            if problem := self._problem(cp, tree.root(), chain_head):
                return VerifyResult(
                    False, cp.tree_size, problem, None, None, self.checked, cp.tree_size
                )
            self.next += 1
            self.checked += 1
            self.vouched = cp.tree_size
        return None

    def _problem(self, cp: Checkpoint, root: bytes, chain_head: str) -> str | None:
        n = cp.tree_size
        if cp.root_hash != root.hex():
            return (
                f"checkpoint at tree size {n} does not match the Merkle root of records 1 to "
                f"{n}: records {self.vouched + 1} to {n} were rewritten, or the checkpoint "
                "was edited"
            )
        if cp.chain_head != chain_head:
            return (
                f"checkpoint at tree size {n} names a chain head that is not the hash of "
                f"record {n}: the checkpoint was edited"
            )
        if self.public_key is not None:
            return signature_problem(cp, self.public_key)
        return None

    def _broken(
        self, problem: str, seq: int, record_id: str, records: int | None = None
    ) -> VerifyResult:
        done = self.seq if records is None else records
        return VerifyResult(False, done, problem, seq, record_id, self.checked)

    def finish(self, head: tuple[int, str] | None) -> VerifyResult:
        if failure := self._check_due({0: ((), GENESIS_HASH)}, upto=0):
            return failure  # an empty log's checkpoint at size 0
        size = self.seq
        if head is not None and (problem := head_problem(size, self.hash, head)):
            return VerifyResult(False, size, problem, size + 1, None, self.checked)
        if self.next < len(self.pending):
            cp = self.pending[self.next]
            problem = (
                f"checkpoint at tree size {cp.tree_size} covers more records than the log "
                f"holds ({size}): records after {size} were removed"
            )
            return VerifyResult(False, size, problem, size + 1, None, self.checked, cp.tree_size)
        return VerifyResult(True, size, checkpoints=self.checked)
