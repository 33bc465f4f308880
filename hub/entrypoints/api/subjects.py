"""GET /v1/subjects/{token}/events: what the hub holds about a person, as the reader's role
may see it, through the policy point (hub/services/subjects.py).

A Marac chair or coordinator may ask to share without consent under DPA 2018 Sch 1 para 18
with two request headers, ``Hub-Override-Reason`` and ``Hub-Override-Justification``
(percent-encoded UTF-8, so any text fits in a header). They travel in headers, not in the
query string, because query strings land in access logs and proxies' logs, and a
justification is free text that may describe people. The old query parameters are refused
with a 422 that says where they go now.
"""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import APIRouter, Header, Path, Query
from starlette.concurrency import run_in_threadpool

from hub.contract.parse import error_entry
from hub.entrypoints.api.deps import THROUGH_POLICY_POINT, PrincipalDep, ServicesDep
from hub.services.access import Purpose
from hub.services.errors import Unusable
from hub.services.subjects import SubjectEvents, subject_events

router = APIRouter(prefix="/v1", tags=["subjects"])

REASON_HEADER = "Hub-Override-Reason"
JUSTIFICATION_HEADER = "Hub-Override-Justification"
MOVED_QUERY = {"override_reason": REASON_HEADER, "justification": JUSTIFICATION_HEADER}


def moved_to_headers(given: dict[str, str | None]) -> None:
    """Refuse the override's old query parameters, saying which header each goes in now."""
    errors = [
        error_entry(
            ("query", name),
            f"send '{name}' in the {header} header (percent-encoded UTF-8), not in the query "
            "string: query strings are written to access logs",
            "moved_to_header",
        )
        for name, header in MOVED_QUERY.items()
        if given.get(name) is not None
    ]
    if errors:
        raise Unusable("the override goes in request headers now", errors)


def header_text(value: str | None, header: str) -> str | None:
    """A header's value, percent-decoded as UTF-8."""
    if value is None:
        return None
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        msg = f"{header} is not percent-encoded UTF-8; encode the text, e.g. 'caf%C3%A9'"
        raise Unusable(msg, [error_entry(("header", header), msg, "value_error")]) from None


@router.get(
    "/subjects/{token}/events",
    response_model=SubjectEvents,
    responses={
        401: {"description": "No valid API key"},
        403: {
            "description": "Agency systems send events; people read them. Refused outright to "
            "roles the sharing policy shows nothing (IG officers), to readers of another Marac "
            "area, and to overrides by anyone but a Marac chair or coordinator"
        },
        503: {"description": "The disclosure could not be audited, so nothing is shown"},
    },
    dependencies=[THROUGH_POLICY_POINT],
)
async def get_subject_events(
    principal: PrincipalDep,
    services: ServicesDep,
    token: str = Path(pattern=r"^st_[a-z2-7]{32}$"),
    purpose: Purpose = Purpose.marac_case_preparation,
    override_reason: str | None = Header(
        None,
        alias=REASON_HEADER,
        description="Share without consent under DPA 2018 Sch 1 para 18: the reason "
        "(consent_cannot_be_given, consent_cannot_reasonably_be_obtained, "
        "asking_would_prejudice_protection)",
    ),
    justification: str | None = Header(
        None,
        alias=JUSTIFICATION_HEADER,
        description="Why, in words (required with a reason; at least 3 words and 20 "
        "characters), percent-encoded UTF-8",
    ),
    old_reason: str | None = Query(None, alias="override_reason", include_in_schema=False),
    old_justification: str | None = Query(None, alias="justification", include_in_schema=False),
) -> SubjectEvents:
    """The events held about this subject, each filtered to the fields the sharing policy
    allows this reader for this purpose; refused items are counted, not shown."""
    moved_to_headers({"override_reason": old_reason, "justification": old_justification})
    reason = header_text(override_reason, REASON_HEADER)
    why = header_text(justification, JUSTIFICATION_HEADER)
    return await run_in_threadpool(
        subject_events, services, principal, purpose.value, token, reason, why
    )
