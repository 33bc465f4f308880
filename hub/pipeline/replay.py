"""Rebuild and refill: the event store is the record, everything else can be made again.

- ``rebuild`` empties every derived table and makes it again from the store, in one
  transaction (readers see the old state until it commits): first the linker runs over every
  event in store order (persons, families, possible matches, the vault), then each family is
  folded from its events, read in one pass sorted by family, and the rules run once over each
  whole projection with the final clock. Rules depend only on a family's events and the
  clock, so the same projections and alerts (same ids, same content) come back. An alert
  that comes back unchanged keeps its revision (and when it was raised and updated): readers
  that follow revisions (the inbox stream, the agencies' feeds and their Kafka egress) are
  told again only of what changed, so no agency is told twice.
- ``state_digest`` hashes the derived tables without wall-clock moments (when an alert was
  raised or updated, its revision counter), so live and rebuilt states can be compared. It
  includes the events set apart (failed_events not resolved: hub id, family, error type),
  which say which families need attention: a poison event fails in both.
- No single event stops a rebuild: an event a family cannot be settled with is set apart
  (hub.pipeline.isolation) and counted. failed_events is not emptied: rows of events the
  rebuild applied are resolved, those it could not apply recorded again.
- ``refill`` republishes every stored event to Kafka through the outbox, for a broker that
  is new or was emptied; consumers skip what they had already applied.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

from hub.adapters.sql import failed
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.failed import Failure
from hub.adapters.sql.schema import (
    alerts,
    case_members,
    clock,
    event_tokens,
    events,
    failed_events,
    family_projections,
    family_redirects,
    identity_edges,
    outbox,
    possible_matches,
    processed_events,
    subject_tokens,
    subject_vault,
)
from hub.domain.areas import AreaBook
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection
from hub.domain.internal import CLOCK_TICKED
from hub.pipeline.alert_rows import alerts_kept, keep_revisions, take_revisions
from hub.pipeline.isolation import Unsettled, describe, is_infrastructure
from hub.pipeline.linking import Linker
from hub.pipeline.projector import CONSUMER as PROJECTOR
from hub.pipeline.projector import advance_clock
from hub.pipeline.replay_fold import Family, Folded, fold_families
from hub.pipeline.settle import Members, project_family

BATCH = 5000
DERIVED = (
    alerts, family_projections, subject_tokens, identity_edges, event_tokens, family_redirects,
    possible_matches, subject_vault, processed_events, clock, case_members,
)  # fmt: skip


@dataclass(frozen=True)
class ReplayResult:
    events: int
    families: int
    alerts: int
    seconds: float
    failed: int = 0  # events set apart (failed_events): `hub failed list`


def rebuild(engine: Engine, areas: AreaBook, batch: int = BATCH, jobs: int = 1) -> ReplayResult:
    """Make every derived table again from the store; jobs processes fold the families
    (hub.pipeline.replay_fold: the same rows whatever their number)."""
    started = time.perf_counter()
    store = SqlEventStore(engine)
    linker = Linker(engine)
    n, after = 0, 0
    with engine.begin() as conn:
        kept = alerts_kept(conn)
        for table in DERIVED:
            conn.execute(delete(table))
        ticks: list[datetime] = []
        while rows := store.read(after, batch):
            after = rows[-1][0]
            linker.link_in(conn, rows)
            ticks += [
                datetime.fromisoformat(e.data["clock"]) for _, e in rows if e.type == CLOCK_TICKED
            ]
            n += len(rows)
        final_clock = advance_clock(conn, ticks)
        families, failures = _project_all(conn, areas, final_clock, jobs)
        _settle_failures(conn, failures)
        keep_revisions(conn, kept)
        raised = conn.execute(select(func.count()).select_from(alerts)).scalar()
    failing = len({f.hub_id for f in failures})
    return ReplayResult(n, families, int(raised or 0), time.perf_counter() - started, failing)


def _settle_failures(conn: Connection, failures: list[Failure]) -> None:
    """A replay tries every event again: the events it applied are resolved, those that failed
    again are recorded (failed_events is kept across replays: it is the operator's record)."""
    now = datetime.now(UTC)
    failing = {f.hub_id for f in failures}
    failed.resolve(conn, {r.hub_id for r in failed.rows(conn)} - failing, now)
    failed.record(conn, failures, now)


def _project_all(
    conn: Connection, areas: AreaBook, clock_at: datetime | None, jobs: int = 1
) -> tuple[int, list[Failure]]:
    """Fold every family from its events (one pass sorted by family), settle each once, with
    the events that cannot be applied set apart (hub.pipeline.isolation); jobs processes fold
    (hub.pipeline.replay_fold), this one reads and writes."""
    count = 0
    tracked: set[str] = set()
    chunk: list[tuple[Family, Folded]] = []
    failures: list[Failure] = []
    families = _families(conn, tracked)
    for family, done in fold_families(families, areas, clock_at, jobs):
        failures += done.failures
        if done.state is None:
            continue
        chunk.append((family, done))
        count += 1
        if len(chunk) >= 1000:
            failures += _flush(conn, areas, clock_at, chunk)
            chunk = []
    failures += _flush(conn, areas, clock_at, chunk)
    ids = sorted(tracked | ticks_seen(conn))
    for i in range(0, len(ids), 10_000):
        conn.execute(
            insert(processed_events),
            [{"consumer": PROJECTOR, "hub_id": h} for h in ids[i : i + 10_000]],
        )
    return count, failures


def _families(conn: Connection, tracked: set[str]) -> Iterator[Family]:
    """Each family's members and stored events, in family order; every hub id met is added to
    tracked."""
    members = _members_by_family(conn)
    for fid, evs in _events_by_family(conn):
        m = next(members)
        while m.family_id < fid:  # families whose tokens no stored event names (not expected)
            m = next(members)
        tracked.update(hub_id for hub_id, _ in evs)
        yield Family(m, [body for _, body in evs])


def _flush(
    conn: Connection,
    areas: AreaBook,
    clock_at: datetime | None,
    chunk: list[tuple[Family, Folded]],
) -> list[Failure]:
    """Write settled families and their alerts in bulk (the tables start empty). Should the
    database refuse a row, write the chunk family by family instead, setting apart the
    events it refuses; return those."""
    try:
        with conn.begin_nested():
            _insert(conn, chunk)
        return []
    except Exception as exc:
        if is_infrastructure(exc):
            raise
    out: list[Failure] = []
    for family, done in chunk:
        m, failing = family.members, {f.hub_id for f in done.failures}
        evs = [e for e in map(CanonicalEvent.from_json, family.bodies) if e.hub_id not in failing]
        start = (FamilyProjection.empty(m.family_id), evs, True)
        try:
            out += project_family(conn, areas, m, start, clock_at, careful=True).failures
        except Unsettled as exc:
            out += [Failure(e.hub_id, m.family_id, *describe(exc.cause)) for e in evs]
    return out


def _insert(conn: Connection, chunk: list[tuple[Family, Folded]]) -> None:
    if not chunk:
        return
    now = datetime.now(UTC)
    projections = [
        {"family_id": f.members.family_id, "membership": f.members.membership, "state": d.state,
         "next_due": d.due, "updated_at": now}
        for f, d in chunk
    ]  # fmt: skip
    conn.execute(insert(family_projections), projections)
    found = [row for _, d in chunk for row in d.alerts]
    if found:
        first = take_revisions(conn, len(found))
        conn.execute(
            insert(alerts),
            [
                {**content, "alert_id": aid, "revision": rev, "raised_at": now, "updated_at": now}
                for rev, (aid, content) in enumerate(found, first)
            ],
        )


def ticks_seen(conn: Connection) -> set[str]:
    return set(conn.execute(select(events.c.hub_id).where(events.c.type == CLOCK_TICKED)).scalars())


def _members_by_family(conn: Connection) -> Iterator[Members]:
    """Each family's tokens and persons, with the perpetrators attached to it (a token of
    case_members is attached to every case it lists, its home case included)."""
    st, cm = subject_tokens.c, case_members.c
    home = select(
        st.family_id.label("fid"), st.token.label("token"), st.person_id.label("pid"),
        literal(0).label("attached"),
    )  # fmt: skip
    cases = select(
        cm.family_id.label("fid"), cm.token.label("token"), st.person_id.label("pid"),
        literal(1).label("attached"),
    ).join_from(case_members, subject_tokens, st.token == cm.token)  # fmt: skip
    both = union_all(home, cases).subquery()
    rows = conn.execute(
        select(both.c.fid, both.c.token, both.c.pid, both.c.attached)
        .order_by(both.c.fid, both.c.token, both.c.attached)
        .execution_options(yield_per=10_000)
    )
    current: str | None = None
    person_of: dict[str, str] = {}
    attached: set[str] = set()
    for fid, token, pid, is_attached in rows:
        if fid != current and current is not None:
            yield Members(current, person_of, frozenset(attached))
            person_of, attached = {}, set()
        current = fid
        person_of[token] = pid
        if is_attached:
            attached.add(token)
    if current is not None:
        yield Members(current, person_of, frozenset(attached))


def _events_by_family(conn: Connection) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Each family's events in store order (hub id, stored JSON): those naming its tokens, and
    its attached perpetrators' (the fold tells its own from links)."""
    et = event_tokens.c
    home = select(subject_tokens.c.family_id.label("fid"), et.seq.label("seq")).join_from(
        event_tokens, subject_tokens, subject_tokens.c.token == et.token
    )
    cases = select(case_members.c.family_id.label("fid"), et.seq.label("seq")).join_from(
        event_tokens, case_members, case_members.c.token == et.token
    )
    both = union_all(home, cases).subquery()
    rows = conn.execute(
        select(both.c.fid, events.c.seq, events.c.hub_id, events.c.body)
        .join_from(both, events, events.c.seq == both.c.seq)
        .order_by(both.c.fid, events.c.seq)
        .execution_options(yield_per=10_000)
    )
    current: str | None = None
    seen: set[int] = set()
    evs: list[tuple[str, str]] = []
    for fid, seq, hub_id, body in rows:
        if fid != current:
            if current is not None:
                yield current, evs
            current, seen, evs = fid, set(), []
        if seq not in seen:
            seen.add(seq)
            evs.append((hub_id, body))
    if current is not None:
        yield current, evs


VOLATILE = {"raised_at", "updated_at", "revision"}


def state_digest(engine: Engine) -> str:
    """SHA-256 over the derived tables in a fixed order, without wall-clock columns."""
    h = hashlib.sha256()
    tables = (family_projections, alerts, subject_tokens, identity_edges, family_redirects,
              possible_matches, subject_vault, clock, case_members)  # fmt: skip
    with engine.connect() as conn:
        for table in tables:
            cols = [c for c in table.c if c.name not in VOLATILE | {"updated_at"}]
            order = [c for c in table.primary_key.columns]
            for row in conn.execute(select(*cols).order_by(*order)):
                h.update((table.name + "|" + json.dumps([str(v) for v in row]) + "\n").encode())
        # the events set apart, hence which families need attention: the same poison event
        # fails live and in a rebuild (when and how often it was tried are not compared)
        set_apart = select(failed_events.c.hub_id, failed_events.c.family_id,
                           failed_events.c.error_type).where(
            failed_events.c.status.in_(failed.UNRESOLVED)
        )  # fmt: skip
        for row in conn.execute(set_apart.order_by(failed_events.c.hub_id)):
            h.update(("failed_events|" + json.dumps(list(row)) + "\n").encode())
    return h.hexdigest()


def refill(engine: Engine) -> int:
    """Mark every outbox row for publishing again; the relay sends them in store order."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                update(outbox).where(outbox.c.published_at.is_not(None)).values(published_at=None)
            ).rowcount
        )
