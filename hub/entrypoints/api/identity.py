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

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.decisions import record_decision
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services.identity import MATCH_ID, DecisionOut, MatchList, decide, matches

router = APIRouter(prefix="/v1/identity", tags=["identity"])


@router.get(
    "/matches",
    response_model=MatchList,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "Only Marac chairs and coordinators decide identity"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_matches(
    principal: PrincipalDep,
    services: ServicesDep,
    status_: Literal["open", "confirmed", "rejected", "undone"] | None = Query(
        "open", alias="status"
    ),
    limit: int = Query(100, ge=1, le=1000),
) -> MatchList:
    """Possible matches with both sides' names and dates of birth (from the sealed vault), so
    a person can decide; oldest first. Audited before the answer."""
    return await run_in_threadpool(matches, services, principal, status_, limit)


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
    dependencies=[THROUGH_POLICY_POINT],
)
async def confirm_match(
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """The two records are one person: the linker joins them (and their families)."""
    return await record_decision(
        services, response, decide, services, principal, match_id, "confirmed"
    )


@router.post(
    "/matches/{match_id}/reject",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DecisionOut,
    responses=DECISION_RESPONSES,
    dependencies=[THROUGH_POLICY_POINT],
)
async def reject_match(
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """The two records are different people: they stay apart."""
    return await record_decision(
        services, response, decide, services, principal, match_id, "rejected"
    )


@router.post(
    "/matches/{match_id}/undo",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DecisionOut,
    responses=DECISION_RESPONSES,
    dependencies=[THROUGH_POLICY_POINT],
)
async def undo_match(
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    match_id: str = MatchIdPath,
) -> DecisionOut:
    """A confirmed match was wrong: the linker splits the person (and the family) again."""
    return await record_decision(
        services, response, decide, services, principal, match_id, "undone"
    )
