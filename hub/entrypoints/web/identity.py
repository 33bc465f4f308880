"""Identity review: the possible matches in the chair's area side by side, and the decisions
on them (confirm, reject, undo) with a reason.

Thin like hub/entrypoints/api/identity.py: the list is hub.services.identity.matches (the
same area filter and the same "GET /v1/identity/matches" audit record) and each decision is
hub.services.identity.decide (audited as "POST /v1/identity/matches/{id}/{verb}").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.rendering import PageError, call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services.identity import MATCH_ID, MatchOut, decide, matches

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

STATUSES = ("open", "confirmed", "rejected", "undone")
# verb in the URL → (decision, button words, what the page says when it is done)
VERBS = {
    "confirm": ("confirmed", "Confirm: same person", "Match confirmed: the records are joined"),
    "reject": ("rejected", "Reject: different people", "Match rejected: the records stay apart"),
    "undo": ("undone", "Undo the match", "Match undone: the records are split again"),
}
# which decisions the page offers for a match in each status (the service checks again)
OFFERED = {"open": ("confirm", "reject"), "confirmed": ("undo",)}
LIMIT = 200


def compared(m: MatchOut) -> list[dict[str, Any]]:
    """Each field of the two records, and whether they agree (said in words, not colour)."""
    rows = []
    for label, field in (("Name", "name"), ("Date of birth", "date_of_birth")):
        a, b = getattr(m.a, field), getattr(m.b, field)
        same = a is not None and a == b
        rows.append({"label": label, "a": a, "b": b, "same": same})
    fa, fb = m.a.family_id, m.b.family_id
    rows.append({"label": "Family", "a": fa, "b": fb, "same": fa is not None and fa == fb})
    return rows


async def _review(
    request: Request, session: SessionDep, services: ServicesDep, status: str,
    errors: list[dict[str, str]], reasons: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    found = await call_service(matches, services, session.principal, status, LIMIT)
    return page(
        request, "identity.html", status_code, title="Identity review", nav="/identity",
        found=found.matches, compared=compared, status=status, statuses=STATUSES,
        offered=OFFERED, verbs=VERBS, errors=errors, reasons=reasons,
        done=VERBS[request.query_params["done"]][2]
        if request.query_params.get("done") in VERBS else None,
    )  # fmt: skip


@router.get("/identity", response_class=HTMLResponse)
async def review(request: Request, session: SessionDep, services: ServicesDep) -> HTMLResponse:
    """Possible matches in the reader's area with a given status (open by default)."""
    status = request.query_params.get("status") or "open"
    errors = []
    if status not in STATUSES:
        errors.append({"field": "status", "message": "Choose a status from the list"})
        status = "open"
    return await _review(request, session, services, status, errors, {}, 400 if errors else 200)


@router.post("/identity/{match_id}/{verb}")
async def decide_match(
    request: Request, services: ServicesDep, session: SessionDep, form: FormDep,
    match_id: str = Path(pattern=MATCH_ID), verb: str = Path(pattern="^(confirm|reject|undo)$"),
) -> Response:  # fmt: skip
    reason = form.get("reason", "").strip()
    field = f"reason-{match_id}"
    if len(reason) < 3:
        message = f"Enter why you {verb} this match" if not reason else (
            "The reason must be at least 3 characters"
        )  # fmt: skip
        status = "confirmed" if verb == "undo" else "open"
        return await _review(
            request, session, services, status,
            [{"field": field, "message": message}], {match_id: reason}, 400,
        )  # fmt: skip
    if len(reason) > 2000:
        raise PageError(422, "There is a problem", "The reason must be 2000 characters or fewer")
    decision = VERBS[verb][0]
    await call_service(decide, services, session.principal, match_id, decision, reason)
    back = "confirmed" if verb == "confirm" else "open"
    return RedirectResponse(f"/identity?status={back}&done={verb}", status_code=303)
