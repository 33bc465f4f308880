"""Verifying a large log with several processes.

Each process checks one segment (audit.segments), reading it from the database by seq range
with its own connection; the parent combines the reports in log order (audit.verify.combine),
so the verdict, down to the record or checkpoint named, is the one a single pass gives. Worth
it from a few segments up: starting a process costs about as much as checking 100,000 records.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, create_engine

from audit.chain import VerifyResult
from audit.checkpoint import Checkpoint
from audit.reading import record_batches
from audit.segments import SEGMENT_BITS, SegmentReport, check_segment, segment_bounds

_engines: dict[str, Engine] = {}  # one per database URL in each worker process


def check_range(url: str, start: int, end: int, sizes: Sequence[int]) -> SegmentReport:
    """Check records start+1..end (the first segment also takes any seq below 1)."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(url)
    batches = record_batches(engine, upto=end, after=start or None)
    try:
        return check_segment(batches, start, sizes)
    finally:
        batches.close()


def verify_in_parallel(
    engine: Engine,
    checkpoints: list[Checkpoint],
    public_key: Ed25519PublicKey | None,
    head: tuple[int, str] | None,
    upto: int,
    jobs: int,
    bits: int = SEGMENT_BITS,
) -> VerifyResult:
    from audit.verify import combine

    url = engine.url.render_as_string(hide_password=False)
    bounds = segment_bounds(upto, bits)
    sizes = sorted({c.tree_size for c in checkpoints})
    per_segment = [[s for s in sizes if start < s <= end] for start, end in bounds]
    # spawn, not fork: a forked child would share the parent's pooled connections
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        starts, ends = zip(*bounds, strict=True)
        reports = pool.map(check_range, repeat(url), starts, ends, per_segment)
        return combine(reports, checkpoints, public_key, head, bits)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
