"""The linker: keeps the person index and the family grouping, in store order.

It runs where events leave the store for Kafka (the outbox relay) and in ``hub replay``, so
every event is linked before any consumer sees it, and a replay links in the same order. Its
tables are derived from the event store and hold tokens only (names and dates of birth stay
sealed in ``subject_vault``):

- ``subject_tokens``: each token's first store position, person id and family id (a
  perpetrator's home case);
- ``case_members``: every case a perpetrator-only token belongs to (hub.domain.identity);
- ``identity_edges``: same-person edges and relations, each with the event that stated it;
- ``event_tokens``: which events name which token, so a family's events can be read back;
- ``possible_matches``: tokens sharing a weak key (name + date of birth + postcode), never
  merged until a person confirms; confirmations, rejections and undos are hub events;
- ``family_redirects``: an id that stopped being a family's id points to the current one.

Grouping is a pure function of the edges (hub.domain.identity), so the ids do not depend on
how events were batched.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, or_, select, update

from hub.adapters.crypto.vault import FIELD
from hub.adapters.sql.schema import (
    case_members,
    event_tokens,
    family_redirects,
    identity_edges,
    possible_matches,
    processed_events,
    subject_tokens,
    subject_vault,
)
from hub.domain import identity
from hub.domain.events import HUB_NAMESPACE, NO_SUBJECT, CanonicalEvent
from hub.domain.identity import Edge
from hub.domain.internal import MATCH_CONFIRMED, MATCH_DECISIONS, MATCH_REJECTED, MATCH_UNDONE

log = logging.getLogger(__name__)

CONSUMER = "linker"
# the status a match must have for each decision to apply
ALLOWED_FROM = {"confirmed": "open", "rejected": "open", "undone": "confirmed"}
CHUNK = 500


def match_id(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return str(uuid.uuid5(HUB_NAMESPACE, f"match\0{x}\0{y}"))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


class Linker:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def link(self, rows: Sequence[tuple[int, CanonicalEvent]]) -> dict[str, list[str]]:
        """Link the events (store seq, event) not linked before; return each event's
        families (every case of its subjects, the primary subject's home case first)."""
        with self._engine.begin() as conn:
            return self.link_in(conn, rows)

    def link_in(
        self, conn: Connection, rows: Sequence[tuple[int, CanonicalEvent]]
    ) -> dict[str, list[str]]:
        done = set()
        for part in _chunks([e.hub_id for _, e in rows]):
            done |= set(
                conn.execute(
                    select(processed_events.c.hub_id).where(
                        processed_events.c.consumer == CONSUMER,
                        processed_events.c.hub_id.in_(part),
                    )
                ).scalars()
            )
        fresh = [(seq, e) for seq, e in sorted(rows, key=lambda r: r[0]) if e.hub_id not in done]
        if fresh:
            _Batch(conn).apply(fresh)
            conn.execute(
                insert(processed_events),
                [{"consumer": CONSUMER, "hub_id": e.hub_id} for _, e in fresh],
            )
        return self._families(conn, [e for _, e in rows])

    @staticmethod
    def _families(conn: Connection, evs: Sequence[CanonicalEvent]) -> dict[str, list[str]]:
        tokens = sorted({s.token for e in evs for s in e.subjects})
        cases = cases_of(conn, tokens)
        out: dict[str, list[str]] = {}
        for e in evs:
            first = cases[e.victim_token][0] if e.subjects else NO_SUBJECT
            every = (f for s in e.subjects for f in cases[s.token])
            out[e.hub_id] = list(dict.fromkeys((first, *every)))
        return out


def cases_of(conn: Connection, tokens: Sequence[str]) -> dict[str, list[str]]:
    """Each token's cases: its home family first, then any other case it is attached to."""
    out: dict[str, list[str]] = {}
    ordered = sorted(set(tokens))
    for part in _chunks(ordered):
        for t, fid in conn.execute(
            select(subject_tokens.c.token, subject_tokens.c.family_id).where(
                subject_tokens.c.token.in_(part)
            )
        ):
            out[t] = [fid]
    for part in _chunks(ordered):
        for t, fid in conn.execute(
            select(case_members.c.token, case_members.c.family_id)
            .where(case_members.c.token.in_(part))
            .order_by(case_members.c.token, case_members.c.family_id)
        ):
            if fid not in out[t]:
                out[t].append(fid)
    return out


class _Batch:
    """One linking pass over fresh events, in store order, inside the caller's transaction.

    It reads what it needs in a few queries, decides in memory in store order, and writes
    in bulk, so a replay's large batches cost few statements."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.first_seq: dict[str, int] = {}  # tokens known, with their first position
        self.weak_of: dict[str, str | None] = {}  # token → its weak token (stored or set here)
        self.new_tokens: dict[str, int] = {}
        self.weak: dict[str, str] = {}  # token → weak token set in this batch
        self.holders: dict[str, tuple[int, str]] = {}  # weak token → earliest holder so far
        self.matches: dict[str, dict[str, Any]] = {}  # possible matches found in this batch
        self.decided: dict[str, tuple[str, str]] = {}  # stored match → (status, decided by)
        self.vault: dict[str, dict[str, Any]] = {}  # token → latest sealed identity
        self.new_edges: dict[tuple[str, str, str, str], Edge] = {}
        self.dropped_edges: list[Edge] = []
        self.seeds: set[str] = set()

    def apply(self, fresh: Sequence[tuple[int, CanonicalEvent]]) -> None:
        self._load_known({t for _, e in fresh for s in e.subjects for t in s.all_tokens})
        self._load_holders({s.weak for _, e in fresh for s in e.subjects if s.weak})
        mentions = {}
        for seq, e in fresh:
            for s in e.subjects:
                for t in s.all_tokens:
                    if t not in self.first_seq:
                        self.first_seq[t] = self.new_tokens[t] = seq
                        self.weak_of[t] = None
                        self.seeds.add(t)
                mentions[(s.token, seq)] = {"token": s.token, "seq": seq}
                if s.weak and self.weak_of.get(s.token) != s.weak:
                    self._weak(s.token, s.weak, seq, e.hub_id)
                if s.sealed:
                    self.vault[s.token] = {
                        "token": s.token, "field": FIELD, "value": json.dumps(s.sealed),
                        "hub_id": e.hub_id,
                    }  # fmt: skip
            for edge in identity.edges_of(e):
                self._add_edge(edge)
            if e.type in MATCH_DECISIONS:
                self._decision(e)
        self._write(list(mentions.values()))
        self._regroup()

    def _load_known(self, tokens: set[str]) -> None:
        for part in _chunks(sorted(tokens)):
            for t, first, weak in self.conn.execute(
                select(
                    subject_tokens.c.token, subject_tokens.c.first_seq, subject_tokens.c.weak
                ).where(subject_tokens.c.token.in_(part))
            ):
                self.first_seq[t] = first
                self.weak_of[t] = weak

    def _load_holders(self, weaks: set[str]) -> None:
        """The earliest-seen stored token holding each weak token."""
        for part in _chunks(sorted(weaks)):
            for w, t, first in self.conn.execute(
                select(
                    subject_tokens.c.weak, subject_tokens.c.token, subject_tokens.c.first_seq
                ).where(subject_tokens.c.weak.in_(part))
            ):
                if w not in self.holders or (first, t) < self.holders[w]:
                    self.holders[w] = (first, t)

    def _add_edge(self, edge: Edge) -> None:
        self.new_edges[(edge.a, edge.b, edge.kind, edge.source)] = edge
        self.seeds |= {edge.a, edge.b}

    def _weak(self, token: str, weak: str, seq: int, hub_id: str) -> None:
        """A token newly holding a weak token is paired with the earliest-seen token already
        holding it (or, if it is itself earlier, with that one): a possible match, in store
        order, whatever the batching."""
        self.weak[token] = self.weak_of[token] = weak
        mine = (self.first_seq[token], token)
        earliest = self.holders.get(weak)
        if earliest is None or mine < earliest:
            self.holders[weak] = mine
        if earliest is None or earliest[1] == token:
            return
        mid = match_id(earliest[1], token)
        if mid not in self.matches:
            a, b = sorted((earliest[1], token))
            self.matches[mid] = {
                "match_id": mid, "token_a": a, "token_b": b, "found_seq": seq,
                "found_by": hub_id, "status": "open", "decided_by": None,
            }  # fmt: skip

    def _decision(self, e: CanonicalEvent) -> None:
        mid = str(e.data.get("match_id"))
        match = self.matches.get(mid)
        if match is None:
            row = self.conn.execute(
                select(possible_matches).where(possible_matches.c.match_id == mid)
            ).one_or_none()
            match = None if row is None else dict(row._mapping)
            if match is not None and mid in self.decided:
                match["status"] = self.decided[mid][0]
        if match is None:
            log.warning("identity decision %s names an unknown match; ignored", e.hub_id)
            return
        outcome: dict[str, str] = {MATCH_CONFIRMED: "confirmed", MATCH_REJECTED: "rejected"}
        status = outcome.get(e.type, "undone")
        if match["status"] != ALLOWED_FROM[status]:
            # two decisions raced past the API's check: the first one stored stands
            log.warning(
                "identity decision %s does not apply to a %s match", e.hub_id, match["status"]
            )
            return
        if mid in self.matches:
            self.matches[mid].update(status=status, decided_by=e.hub_id)
        else:
            self.decided[mid] = (status, e.hub_id)
        edge = Edge.between(match["token_a"], match["token_b"], "confirmed_match", mid)
        if e.type == MATCH_CONFIRMED:
            self._add_edge(edge)
        elif e.type == MATCH_UNDONE:
            self.new_edges.pop((edge.a, edge.b, edge.kind, edge.source), None)
            self.dropped_edges.append(edge)
            self.seeds |= {edge.a, edge.b}

    def _write(self, mentions: list[dict[str, Any]]) -> None:
        c = self.conn
        if self.new_tokens:
            c.execute(
                insert(subject_tokens),
                [
                    {"token": t, "first_seq": s, "person_id": identity.person_id(t),
                     "family_id": identity.family_id(t), "weak": None}
                    for t, s in self.new_tokens.items()
                ],
            )  # fmt: skip
        if self.weak:
            c.execute(
                update(subject_tokens)
                .where(subject_tokens.c.token == bindparam("t"))
                .values(weak=bindparam("w")),
                [{"t": t, "w": w} for t, w in self.weak.items()],
            )
        if mentions:
            c.execute(insert(event_tokens), mentions)
        if self.matches:
            c.execute(insert(possible_matches), list(self.matches.values()))
        if self.decided:
            c.execute(
                update(possible_matches)
                .where(possible_matches.c.match_id == bindparam("m"))
                .values(status=bindparam("s"), decided_by=bindparam("d")),
                [{"m": m, "s": s, "d": d} for m, (s, d) in self.decided.items()],
            )
        if self.vault:
            for part in _chunks(sorted(self.vault)):
                c.execute(delete(subject_vault).where(subject_vault.c.token.in_(part)))
            c.execute(insert(subject_vault), list(self.vault.values()))
        for edge in self.dropped_edges:
            c.execute(
                delete(identity_edges).where(
                    identity_edges.c.a == edge.a, identity_edges.c.b == edge.b,
                    identity_edges.c.kind == edge.kind, identity_edges.c.source == edge.source,
                )
            )  # fmt: skip
        if self.new_edges:
            existing = set()
            for part in _chunks(sorted({x.a for x in self.new_edges.values()})):
                existing |= {
                    tuple(r)
                    for r in c.execute(
                        select(
                            identity_edges.c.a, identity_edges.c.b,
                            identity_edges.c.kind, identity_edges.c.source,
                        ).where(identity_edges.c.a.in_(part))
                    )
                }  # fmt: skip
            rows = [vars(x) for k, x in self.new_edges.items() if k not in existing]
            if rows:
                c.execute(insert(identity_edges), rows)

    def _regroup(self) -> None:
        """Recompute persons and families over the region the new edges touch."""
        region, edges = self._region(self.seeds)
        if not region:
            return
        current: dict[str, tuple[str, str]] = {}
        for part in _chunks(sorted(region)):
            for t, fs, pid, fid in self.conn.execute(
                select(
                    subject_tokens.c.token, subject_tokens.c.first_seq,
                    subject_tokens.c.person_id, subject_tokens.c.family_id,
                ).where(subject_tokens.c.token.in_(part))
            ):  # fmt: skip
                self.first_seq[t] = fs
                current[t] = (pid, fid)
        grouping = identity.group(region, edges, self.first_seq)
        changed = [
            {"t": t, "p": grouping.person_of[t], "f": grouping.family_of[t]}
            for t in sorted(region)
            if current.get(t) != (grouping.person_of[t], grouping.family_of[t])
        ]
        if changed:
            self.conn.execute(
                update(subject_tokens)
                .where(subject_tokens.c.token == bindparam("t"))
                .values(person_id=bindparam("p"), family_id=bindparam("f")),
                changed,
            )
        self._redirects([r["t"] for r in changed], grouping.family_of)
        self._cases(sorted(region), grouping)

    def _cases(self, region: list[str], grouping: identity.Grouping) -> None:
        """The region's perpetrator-only tokens and every case each belongs to."""
        for part in _chunks(region):
            self.conn.execute(delete(case_members).where(case_members.c.token.in_(part)))
        rows = [
            {"family_id": f, "token": t}
            for t, fids in sorted(grouping.cases_of.items())
            for f in fids
        ]
        if rows:
            self.conn.execute(insert(case_members), rows)

    def _region(self, seeds: set[str]) -> tuple[set[str], list[Edge]]:
        """Every token connected to the seeds, and every edge among them."""
        region, frontier = set(seeds), set(seeds)
        edges: dict[tuple[str, str, str, str], Edge] = {}
        while frontier:
            found: set[str] = set()
            for part in _chunks(sorted(frontier)):
                for a, b, kind, source in self.conn.execute(
                    select(
                        identity_edges.c.a, identity_edges.c.b,
                        identity_edges.c.kind, identity_edges.c.source,
                    ).where(or_(identity_edges.c.a.in_(part), identity_edges.c.b.in_(part)))
                ):  # fmt: skip
                    edges[(a, b, kind, source)] = Edge(a, b, kind, source)
                    found |= {a, b}
            frontier = found - region
            region |= found
        return region, list(edges.values())

    def _redirects(self, tokens: list[str], family_of: dict[str, str]) -> None:
        """An id labelled after a token now in another family points to that family."""
        own = {t: identity.family_id(t) for t in tokens}
        for part in _chunks(sorted(own.values())):
            self.conn.execute(delete(family_redirects).where(family_redirects.c.old_id.in_(part)))
        moved = [
            {"old_id": own[t], "new_id": family_of[t]} for t in tokens if family_of[t] != own[t]
        ]
        if moved:
            self.conn.execute(insert(family_redirects), moved)
