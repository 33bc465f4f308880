"""GET /v1/feed: what an agency must act on (its Marac actions, hearings of its cases, cases
with children listed for Marac, notices addressed to it), cursor-paged, through the policy
point and audited before it answers (hub/services/feed.py, docs/feed.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from hub.contract.feed import FeedPage
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services.feed import feed_page

router = APIRouter(prefix="/v1", tags=["feed"])

Cursor = Annotated[
    str | None,
    Query(max_length=64, description="the cursor of your last page; none to start from the top"),
]


@router.get(
    "/feed",
    response_model=FeedPage,
    responses={
        401: {"description": "No valid API key"},
        403: {"description": "The feed is read with an agency system's key"},
        422: {"description": "The cursor is not one the hub gave"},
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_feed(
    principal: PrincipalDep,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: int = Query(100, ge=1, le=1000),
) -> FeedPage:
    """The next items for your agency after ``cursor``; keep the answer's ``cursor`` (a small
    file will do) and ask again with it. Items you are told again (an action moved on, a
    notice updated) keep their ``item_id`` with a new ``version``."""
    return await run_in_threadpool(feed_page, services, principal, cursor, limit)
