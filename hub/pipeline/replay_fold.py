"""Folding families for a rebuild, in this process or in several (issue 16).

Once every event is linked, families are independent: what a family's projection and alerts
become depends only on its events, its members, the area book and the final clock, never on
another family. ``fold_families`` takes the families in order (members and stored event
bodies, as read in one pass) and gives back, in the same order, what to write for each: the
projection row, the alert rows (ids and content) and the events set apart. With ``jobs`` > 1
the folding (decoding, ``settle``, the rules) runs in a pool of forked processes, which
receive stored JSON and token → person maps and send back plain rows: the parent keeps one
connection and one transaction for reading and writing, so readers see the old state until
it commits, and the rows it writes are the ones one process would write (a test compares
the digests). At most a few chunks per process are in flight, so memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from hub.adapters.sql.failed import Failure
from hub.domain.areas import AreaBook
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection, alert_status
from hub.pipeline.alert_rows import alert_content
from hub.pipeline.isolation import Unsettled, describe, isolate
from hub.pipeline.settle import Members, settle

CHUNK_EVENTS = 2000  # events sent to a process at a time: large enough to hide the pickling
IN_FLIGHT = 3  # chunks queued per process: enough to keep each busy while the parent writes


@dataclass(frozen=True)
class Family:
    """One family to fold, as read from the store: its members and events (JSON, store order)."""

    members: Members
    bodies: list[str]


@dataclass(frozen=True)
class Folded:
    """What to write for a family: its projection (state None: it cannot be settled at all,
    nothing is written), its alerts as rows, and the events set apart."""

    state: str | None
    due: datetime | None
    alerts: list[tuple[str, dict[str, Any]]]  # (alert id, alert_rows.alert_content)
    failures: list[Failure]


def default_jobs(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: its affinity (a cpuset), capped by a container's CPU
    limit (cgroup v2 cpu.max, "quota period" or "max period"), rounded up."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, -(-int(quota) // int(period)))
    except (OSError, ValueError):  # no cgroup v2 here: the affinity it is
        pass
    return max(1, cpus)


def fold_family(family: Family, areas: AreaBook, clock: datetime | None) -> Folded:
    """Fold a family from empty with every event it can apply; the rules run once (pure)."""
    fid = family.members.family_id
    evs = [CanonicalEvent.from_json(b) for b in family.bodies]
    start = FamilyProjection.empty(fid)
    try:
        done = isolate(
            partial(settle, start, members=family.members, areas=areas, clock=clock), evs
        )
    except Unsettled as exc:  # not one event's fault: every event of the family set apart
        return Folded(None, None, [], [Failure(e.hub_id, fid, *describe(exc.cause)) for e in evs])
    s = done.result
    status = alert_status(s.projection)
    return Folded(
        s.state,
        s.due,
        [(a.alert_id, alert_content(a, status)) for a in s.alerts],
        [Failure(e.hub_id, fid, *describe(x)) for e, x in done.failed],
    )


def fold_families(
    families: Iterable[Family], areas: AreaBook, clock: datetime | None, jobs: int = 1
) -> Iterator[tuple[Family, Folded]]:
    """Each family with what to write for it, in the order given; jobs processes fold them.

    The caller's iteration of ``families`` (its database cursor) stays in the calling thread:
    chunks are submitted one by one as results are taken."""
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for family in families:
            yield family, fold_family(family, areas, clock)
        return
    # fork: the children start with the area book and clock in memory and never touch the
    # parent's database connection (they only decode and fold). A child that dies (killed
    # for memory) breaks the pool: BrokenProcessPool ends the replay and rolls it back,
    # where multiprocessing.Pool would wait for its result for ever, the transaction open.
    pool = ProcessPoolExecutor(
        jobs, multiprocessing.get_context("fork"), initializer=_given, initargs=(areas, clock)
    )
    try:
        window: deque[tuple[list[Family], Future[list[Folded]]]] = deque()
        for chunk in _chunks(families):
            window.append((chunk, pool.submit(_fold_chunk, chunk)))
            if len(window) >= IN_FLIGHT * jobs:
                yield from _taken(*window.popleft())
        while window:
            yield from _taken(*window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(families: Iterable[Family]) -> Iterator[list[Family]]:
    chunk: list[Family] = []
    size = 0
    for family in families:
        chunk.append(family)
        size += len(family.bodies)
        if size >= CHUNK_EVENTS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _taken(chunk: list[Family], result: Future[list[Folded]]) -> Iterator[tuple[Family, Folded]]:
    yield from zip(chunk, result.result(), strict=True)


_AREAS: AreaBook | None = None
_CLOCK: datetime | None = None


def _given(areas: AreaBook, clock: datetime | None) -> None:
    """A pool process's start: what every family of this rebuild is folded with."""
    global _AREAS, _CLOCK
    _AREAS, _CLOCK = areas, clock


def _fold_chunk(chunk: list[Family]) -> list[Folded]:
    assert _AREAS is not None, "a pool process starts with _given"
    return [fold_family(f, _AREAS, _CLOCK) for f in chunk]
