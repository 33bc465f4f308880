"""Reads of the family read models for the API and the reports: family projections, the
person index (subject tokens), family redirects and possible matches.

The linker (hub/pipeline/linking.py) and the worker's projector write these tables; nothing here
writes them. Identity decisions are events: the API stores them and the linker applies them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_, select

from hub.adapters.sql.schema import (
    event_tokens,
    events,
    family_projections,
    family_redirects,
    possible_matches,
    subject_tokens,
)
from hub.domain.events import CanonicalEvent

# A redirect chain longer than this is a loop (the linker never writes one; this is a guard).
MAX_REDIRECTS = 64


@dataclass(frozen=True)
class FamilyLookup:
    """Where a family id leads: its stored projection state, or the id it was merged into."""

    family_id: str
    state: dict[str, Any] | None  # the projection's to_dict(), when family_id is current
    moved_to: str | None  # the current id, when family_id was merged into another family


@dataclass(frozen=True)
class PossibleMatch:
    match_id: str
    token_a: str
    token_b: str
    found_by: str  # hub id of the event that raised it
    status: str  # open | confirmed | rejected | undone
    decided_by: str | None  # hub id of the decision event the linker applied


def current_family_id(engine: Engine, family_id: str) -> str:
    """Follow family_redirects from family_id to the id in use now (itself if never merged)."""
    seen = [family_id]
    with engine.connect() as conn:
        while len(seen) <= MAX_REDIRECTS:
            new = conn.execute(
                select(family_redirects.c.new_id).where(family_redirects.c.old_id == seen[-1])
            ).scalar_one_or_none()
            if new is None or new in seen:
                break
            seen.append(new)
    return seen[-1]


def find_family(engine: Engine, family_id: str) -> FamilyLookup | None:
    """The family's projection state, or where a merged id now points; None if unknown."""
    with engine.connect() as conn:
        raw = conn.execute(
            select(family_projections.c.state).where(family_projections.c.family_id == family_id)
        ).scalar_one_or_none()
    if raw is not None:
        return FamilyLookup(family_id, json.loads(raw), None)
    current = current_family_id(engine, family_id)
    if current == family_id:
        return None
    return FamilyLookup(family_id, None, current)


def family_id_of_token(engine: Engine, token: str) -> str | None:
    """The current family id of a subject token (None: the hub has not seen the token)."""
    with engine.connect() as conn:
        family = conn.execute(
            select(subject_tokens.c.family_id).where(subject_tokens.c.token == token)
        ).scalar_one_or_none()
    return None if family is None else current_family_id(engine, family)


def tokens_by_person(engine: Engine, person_ids: list[str]) -> dict[str, list[str]]:
    """person id → every token the person index joins into that person."""
    if not person_ids:
        return {}
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for token, person in conn.execute(
            select(subject_tokens.c.token, subject_tokens.c.person_id)
            .where(subject_tokens.c.person_id.in_(sorted(set(person_ids))))
            .order_by(subject_tokens.c.token)
        ):
            out.setdefault(person, []).append(token)
    return out


def same_person_tokens(engine: Engine, tokens: Sequence[str], weak: str | None) -> list[str]:
    """Every token of the persons the person index holds for these tokens or this weak token
    (name, date of birth and postcode), sorted; [] when it holds none of them."""
    c = subject_tokens.c
    found: list[ColumnElement[bool]] = [c.token.in_(sorted(set(tokens)))] if tokens else []
    if weak is not None:
        found.append(c.weak == weak)
    if not found:
        return []
    with engine.connect() as conn:
        persons = conn.execute(select(c.person_id).where(or_(*found)).distinct()).scalars().all()
    return sorted({t for ts in tokens_by_person(engine, list(persons)).values() for t in ts})


def iter_family_states(engine: Engine, batch: int = 500) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every current family projection, as (family id, state), in family id order."""
    after = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(family_projections.c.family_id, family_projections.c.state)
                .where(family_projections.c.family_id > after)
                .order_by(family_projections.c.family_id)
                .limit(batch)
            ).all()
        for family_id, state in rows:
            yield family_id, json.loads(state)
        if len(rows) < batch:
            return
        after = rows[-1][0]


def events_by_id(engine: Engine, hub_ids: list[str], chunk: int = 500) -> dict[str, CanonicalEvent]:
    """The stored events with these hub ids (the policy point decides on them)."""
    out: dict[str, CanonicalEvent] = {}
    wanted = sorted(set(hub_ids))
    with engine.connect() as conn:
        for i in range(0, len(wanted), chunk):
            for hub_id, body in conn.execute(
                select(events.c.hub_id, events.c.body).where(
                    events.c.hub_id.in_(wanted[i : i + chunk])
                )
            ):
                out[hub_id] = CanonicalEvent.from_json(body)
    return out


def events_naming(engine: Engine, token: str, limit: int = 200) -> list[CanonicalEvent]:
    """The latest events naming this token in any role (event_tokens, kept by the linker)."""
    with engine.connect() as conn:
        bodies = conn.execute(
            select(events.c.body)
            .join(event_tokens, event_tokens.c.seq == events.c.seq)
            .where(event_tokens.c.token == token)
            .order_by(events.c.seq.desc())
            .limit(limit)
        ).scalars()
        return [CanonicalEvent.from_json(b) for b in bodies]


def _match(row: Any) -> PossibleMatch:
    return PossibleMatch(
        row.match_id, row.token_a, row.token_b, row.found_by, row.status, row.decided_by
    )


def list_matches(
    engine: Engine, status: str | None = None, limit: int = 100
) -> list[PossibleMatch]:
    """Possible matches, oldest found first, optionally of one status."""
    query = select(possible_matches).order_by(
        possible_matches.c.found_seq, possible_matches.c.match_id
    )
    if status is not None:
        query = query.where(possible_matches.c.status == status)
    with engine.connect() as conn:
        return [_match(r) for r in conn.execute(query.limit(limit))]


def get_match(engine: Engine, match_id: str) -> PossibleMatch | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(possible_matches).where(possible_matches.c.match_id == match_id)
        ).one_or_none()
    return None if row is None else _match(row)
