"""Possible matches and the decisions on them (confirm, reject, undo), for Marac chairs and
coordinators; hub/entrypoints/api/identity.py has the story and the state diagram. Every
decision is a hub event (hub.identity.*) that the linker applies in store order; each is
audited before it is stored (AuditError, nothing stored, if it cannot be).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import BaseModel

from consent.policy import MARAC_ROLES
from hub.adapters.kafka import topics
from hub.adapters.sql.families import PossibleMatch, family_id_of_token, get_match, list_matches
from hub.adapters.sql.principals import Principal
from hub.domain import internal
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id
from hub.services.access import Purpose, in_area, require_subjects_in_area, subject_area
from hub.services.context import HubContext
from hub.services.errors import Conflict, Forbidden, NotFound

MATCH_ID = r"^[0-9a-f-]{36}$"
ALL = 1_000_000  # every possible match: a reader bound to an area filters them
VERBS = {"confirmed": "confirm", "rejected": "reject", "undone": "undo"}
DECISION_TYPES = {
    "confirmed": internal.MATCH_CONFIRMED,
    "rejected": internal.MATCH_REJECTED,
    "undone": internal.MATCH_UNDONE,
}
# What each request needs the match's status to be, and the 409 reason otherwise.
TRANSITIONS: dict[str, tuple[str, dict[str, str]]] = {
    "confirmed": (
        "open",
        {
            "confirmed": "this match is already confirmed",
            "rejected": "this match was rejected; the two records are kept apart",
            "undone": "this match was confirmed and then undone; the two records are kept apart",
        },
    ),
    "rejected": (
        "open",
        {
            "confirmed": "this match was confirmed: undo it instead (POST …/undo)",
            "rejected": "this match is already rejected",
            "undone": "this match was undone already; the two records are kept apart",
        },
    ),
    "undone": (
        "confirmed",
        {
            "open": "nothing to undo: this match is open; confirm or reject it",
            "rejected": "nothing to undo: this match was rejected, so nothing was merged",
            "undone": "this match is already undone",
        },
    ),
}


class MatchSide(BaseModel):
    token: str
    family_id: str | None
    name: str | None
    date_of_birth: str | None


class MatchOut(BaseModel):
    match_id: str
    status: str
    a: MatchSide
    b: MatchSide
    found_by: str
    decided_by: str | None


class MatchList(BaseModel):
    matches: list[MatchOut]
    audit_record_id: str | None


class DecisionOut(BaseModel):
    match_id: str
    decision: str
    hub_id: str
    status: str


def marac_only(principal: Principal) -> None:
    if principal.kind != "person" or principal.role not in MARAC_ROLES:
        raise Forbidden(
            f"role '{principal.role}' may not decide identity: possible matches go to Marac "
            "chairs and coordinators"
        )


def decision_source_id(match_id: str, decision: str) -> str:
    return f"identity:{match_id}:{decision}"


def stored_decisions(services: HubContext, match_id: str) -> dict[str, CanonicalEvent]:
    """The decision events stored for this match (applied by the linker or not yet)."""
    store = services.ingress.store
    found = {}
    for decision in DECISION_TYPES:
        event = store.get(hub_event_id(internal.HUB_AGENCY, decision_source_id(match_id, decision)))
        if event is not None:
            found[decision] = event
    return found


def match_status_now(match: PossibleMatch, stored: dict[str, CanonicalEvent]) -> str:
    """The match's status counting decisions stored but not yet applied by the linker."""
    for decision in ("undone", "confirmed", "rejected"):
        if decision in stored:
            return decision
    return match.status


def _side(services: HubContext, token: str, names: dict[str, dict[str, str | None]]) -> MatchSide:
    known = names.get(token, {})
    return MatchSide(
        token=token,
        family_id=family_id_of_token(services.engine, token),
        name=known.get("name"),
        date_of_birth=known.get("date_of_birth"),
    )


def _in_area(services: HubContext, principal: Principal, m: PossibleMatch) -> bool:
    """Both sides' families in the reader's area (hub/services/access.py says why both)."""
    return all(in_area(principal, subject_area(services, t)) for t in (m.token_a, m.token_b))


def _list(
    services: HubContext, principal: Principal, status_: str | None, limit: int
) -> list[MatchOut]:
    if principal.area is None:
        matches = list_matches(services.engine, status_, limit)
    else:  # filtered before the limit, so another area's matches do not crowd out the reader's
        found = list_matches(services.engine, status_, ALL)
        matches = [m for m in found if _in_area(services, principal, m)][:limit]
    names = services.vault.names(t for m in matches for t in (m.token_a, m.token_b))
    out = []
    for m in matches:
        stored = stored_decisions(services, m.match_id)
        out.append(
            MatchOut(
                match_id=m.match_id,
                status=match_status_now(m, stored),
                a=_side(services, m.token_a, names),
                b=_side(services, m.token_b, names),
                found_by=m.found_by,
                decided_by=m.decided_by,
            )
        )
    return out


def matches(
    services: HubContext, principal: Principal, status: str | None, limit: int
) -> MatchList:
    """Possible matches with both sides' names and dates of birth, oldest first; audited
    before the answer. A reader bound to an area gets the matches of that area only."""
    marac_only(principal)
    found = _list(services, principal, status, limit)
    record_id = None
    if found:
        record_id = services.policy.audit(
            principal, Purpose.safeguarding_review.value, "GET /v1/identity/matches", [],
            [t for m in found for t in (m.a.token, m.b.token)],
            [m.match_id for m in found], sorted(MatchSide.model_fields), "disclosed",
        )  # fmt: skip
    return MatchList(matches=found, audit_record_id=record_id)


def match_decision_event(
    match: PossibleMatch, decision: str, principal: Principal, now: datetime,
    reason: str | None = None,
) -> CanonicalEvent:  # fmt: skip
    data = {
        "match_id": match.match_id,
        "actor": principal.principal_id,
        "actor_role": principal.role,
    }
    if reason:  # a person's page asks why; the API's callers may not say
        data["reason"] = reason
    return internal.internal_event(
        DECISION_TYPES[decision],
        decision_source_id(match.match_id, decision),
        now,
        (SubjectRef(match.token_a, "other"), SubjectRef(match.token_b, "other")),
        data,
    )


def match_decision_hash(event: CanonicalEvent) -> str:
    """The decision's content without its time: a retried request is the same decision."""
    body = json.dumps({"type": event.type, "data": event.data}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def decide(
    services: HubContext, principal: Principal, match_id: str, decision: str,
    reason: str | None = None,
) -> tuple[DecisionOut, bool]:  # fmt: skip
    """Check the transition, audit, store the decision event; (answer, was it a repeat).
    The reason, if given, is stored with the decision (it shows on the family's timeline)."""
    marac_only(principal)
    policy = services.policy
    match = get_match(services.engine, match_id)
    if match is None:
        raise NotFound(f"no possible match {match_id}")
    action = f"POST /v1/identity/matches/{match_id}/{VERBS[decision]}"
    sides = [match.token_a, match.token_b]
    require_subjects_in_area(services, principal, Purpose.safeguarding_review.value, action, sides)
    stored = stored_decisions(services, match_id)
    current = match_status_now(match, stored)
    earlier = stored.get(decision)
    if current == decision and earlier and earlier.data.get("actor") == principal.principal_id:
        # the same person sending the decision in force again (a retry): the same answer
        return DecisionOut(
            match_id=match_id, decision=decision, hub_id=earlier.hub_id, status=current
        ), True  # fmt: skip
    needed, reasons = TRANSITIONS[decision]
    if current != needed:
        raise Conflict(reasons.get(current, f"match is {current}"))
    event = match_decision_event(match, decision, principal, datetime.now(UTC), reason)
    # Audited before it is stored (fail closed). In a race between two people, the stored
    # event's actor is the one whose decision counts; the loser is answered 409.
    policy.audit(
        principal, Purpose.safeguarding_review.value, action,
        [], sides, [event.hub_id], ["match_id", "status"],
        f"identity decision: {VERBS[decision]}",
    )  # fmt: skip
    result = services.ingress.store.append(
        event, match_decision_hash(event), services.settings.topic(topics.EVENTS)
    )
    if not result.stored and not result.same_content:
        # another person's decision of the same kind got in first
        raise Conflict(TRANSITIONS[decision][1][decision])
    return DecisionOut(
        match_id=match_id, decision=decision, hub_id=event.hub_id, status=decision
    ), not result.stored  # fmt: skip
