"""Possible matches: weak matches (name, date of birth, postcode) never merge people silently.
A Marac chair or coordinator confirms or rejects each, or undoes a confirmed one; every
decision is a hub event (hub.identity.*) that the linker applies in store order.

A decision event's source id is ``identity:<match id>:<decision>``, so each decision is stored
at most once per match, and the API can tell a decision already stored but not yet applied by
the linker (the possible_matches row lags): the answer never depends on that lag.

    open ──confirm──► confirmed ──undo──► undone
      └───reject────► rejected
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel

from audit.chain import AuditError
from consent.policy import MARAC_ROLES
from hub.adapters.kafka import topics
from hub.adapters.sql.families import PossibleMatch, family_of_token, get_match, list_matches
from hub.adapters.sql.principals import Principal
from hub.domain import internal
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id
from hub.entrypoints.api.alerts import Purpose, audit_unavailable
from hub.entrypoints.api.decisions import record_decision
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, Services, ServicesDep

router = APIRouter(prefix="/v1/identity", tags=["identity"])

MATCH_ID = r"^[0-9a-f-]{36}$"
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


def _marac_only(principal: Principal) -> None:
    if principal.kind != "person" or principal.role not in MARAC_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role '{principal.role}' may not decide identity: possible matches go to Marac "
            "chairs and coordinators",
        )


def decision_source_id(match_id: str, decision: str) -> str:
    return f"identity:{match_id}:{decision}"


def stored_decisions(services: Services, match_id: str) -> dict[str, CanonicalEvent]:
    """The decision events stored for this match (applied by the linker or not yet)."""
    store = services.ingress.store
    found = {}
    for decision in DECISION_TYPES:
        event = store.get(hub_event_id(internal.HUB_AGENCY, decision_source_id(match_id, decision)))
        if event is not None:
            found[decision] = event
    return found


def effective_status(match: PossibleMatch, stored: dict[str, CanonicalEvent]) -> str:
    """The match's status counting decisions stored but not yet applied by the linker."""
    for decision in ("undone", "confirmed", "rejected"):
        if decision in stored:
            return decision
    return match.status


def _side(services: Services, token: str, names: dict[str, dict[str, str | None]]) -> MatchSide:
    known = names.get(token, {})
    return MatchSide(
        token=token,
        family_id=family_of_token(services.engine, token),
        name=known.get("name"),
        date_of_birth=known.get("date_of_birth"),
    )


def _list(services: Services, status_: str | None, limit: int) -> list[MatchOut]:
    matches = list_matches(services.engine, status_, limit)
    names = services.vault.names(t for m in matches for t in (m.token_a, m.token_b))
    out = []
    for m in matches:
        stored = stored_decisions(services, m.match_id)
        out.append(
            MatchOut(
                match_id=m.match_id,
                status=effective_status(m, stored),
                a=_side(services, m.token_a, names),
                b=_side(services, m.token_b, names),
                found_by=m.found_by,
                decided_by=m.decided_by,
            )
        )
    return out


@router.get(
    "/matches",
    response_model=MatchList,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Only Marac chairs and coordinators decide identity"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
)
async def get_matches(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    status_: Literal["open", "confirmed", "rejected", "undone"] | None = Query(
        "open", alias="status"
    ),
    limit: int = Query(100, ge=1, le=1000),
) -> MatchList:
    """Possible matches with both sides' names and dates of birth (from the sealed vault), so
    a person can decide; oldest first. Audited before the answer."""
    _marac_only(principal)
    matches = await asyncio.to_thread(_list, services, status_, limit)
    record_id = None
    if matches:
        try:
            record_id = await asyncio.to_thread(
                policy.audit, principal, Purpose.safeguarding_review.value,
                "GET /v1/identity/matches", [],
                [t for m in matches for t in (m.a.token, m.b.token)],
                [m.match_id for m in matches], sorted(MatchSide.model_fields), "disclosed",
            )  # fmt: skip
        except AuditError:
            raise audit_unavailable() from None
    return MatchList(matches=matches, audit_record_id=record_id)


def decision_event(
    match: PossibleMatch, decision: str, principal: Principal, now: datetime
) -> CanonicalEvent:
    return internal.internal_event(
        DECISION_TYPES[decision],
        decision_source_id(match.match_id, decision),
        now,
        (SubjectRef(match.token_a, "other"), SubjectRef(match.token_b, "other")),
        {"match_id": match.match_id, "actor": principal.principal_id, "actor_role": principal.role},
    )


def content_hash(event: CanonicalEvent) -> str:
    """The decision's content without its time: a retried request is the same decision."""
    body = json.dumps({"type": event.type, "data": event.data}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _decide(
    services: Services, policy: Any, principal: Principal, match_id: str, decision: str
) -> tuple[DecisionOut, bool]:
    """Check the transition, audit, store the decision event; (answer, was it a repeat)."""
    match = get_match(services.engine, match_id)
    if match is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no possible match {match_id}")
    stored = stored_decisions(services, match_id)
    current = effective_status(match, stored)
    earlier = stored.get(decision)
    if current == decision and earlier and earlier.data.get("actor") == principal.principal_id:
        # the same person sending the decision in force again (a retry): the same answer
        return DecisionOut(
            match_id=match_id, decision=decision, hub_id=earlier.hub_id, status=current
        ), True  # fmt: skip
    needed, reasons = TRANSITIONS[decision]
    if current != needed:
        raise HTTPException(status.HTTP_409_CONFLICT, reasons.get(current, f"match is {current}"))
    event = decision_event(match, decision, principal, datetime.now(UTC))
    # Audited before it is stored (fail closed). In a race between two people, the stored
    # event's actor is the one whose decision counts; the loser is answered 409.
    policy.audit(
        principal, Purpose.safeguarding_review.value,
        f"POST /v1/identity/matches/{match_id}/{VERBS[decision]}",
        [], [match.token_a, match.token_b], [event.hub_id], ["match_id", "status"],
        f"identity decision: {VERBS[decision]}",
    )  # fmt: skip
    result = services.ingress.store.append(
        event, content_hash(event), services.settings.topic(topics.EVENTS)
    )
    if not result.stored and not result.same_content:
        # another person's decision of the same kind got in first
        raise HTTPException(status.HTTP_409_CONFLICT, TRANSITIONS[decision][1][decision])
    return DecisionOut(
        match_id=match_id, decision=decision, hub_id=event.hub_id, status=decision
    ), not result.stored  # fmt: skip


async def _decision_route(
    principal: Principal,
    services: Services,
    policy: Any,
    match_id: str,
    decision: str,
    response: Response,
) -> DecisionOut:
    _marac_only(principal)
    return await record_decision(
        services, response, lambda: _decide(services, policy, principal, match_id, decision)
    )


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only Marac chairs and coordinators decide identity"},
    404: {"description": "No such possible match"},
    409: {"description": "The match's status does not allow this decision; the reason says"},
    503: {"description": "The decision could not be audited, so it was not taken"},
}

MatchIdPath = Path(pattern=MATCH_ID)


@router.post(
    "/matches/{match_id}/confirm",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DecisionOut,
    responses=DECISION_RESPONSES,
)
async def confirm_match(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """The two records are one person: the linker joins them (and their families)."""
    return await _decision_route(principal, services, policy, match_id, "confirmed", response)


@router.post(
    "/matches/{match_id}/reject",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DecisionOut,
    responses=DECISION_RESPONSES,
)
async def reject_match(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """The two records are different people: they stay apart."""
    return await _decision_route(principal, services, policy, match_id, "rejected", response)


@router.post(
    "/matches/{match_id}/undo",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DecisionOut,
    responses=DECISION_RESPONSES,
)
async def undo_match(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """A confirmed match was wrong: the linker splits the person (and the family) again."""
    return await _decision_route(principal, services, policy, match_id, "undone", response)
