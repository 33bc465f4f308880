"""Access requests: a practitioner who sees "involvement only" asks the holding agency (or a
Marac chair) for more; the answer is recorded, and both steps are audited first (AuditError:
nothing recorded).

IG officers see every request and may answer any of them (issue 14): deciding whether a
share is lawful and proportionate is their job, and a request waiting on an agency with
nobody at the hub can otherwise wait for ever. Their answer is audited like anyone's (who,
role, grant or refuse, the items), and the reason is kept with the request. They never see
the items themselves: a grant lets the requester see more, not the IG officer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from consent.policy import MARAC_ROLES, PERSON_ROLES, PersonRole
from hub.adapters.sql.principals import Principal
from hub.services.access import (
    Purpose,
    in_area,
    people_only,
    require_subjects_in_area,
    subject_area,
)
from hub.services.context import HubContext
from hub.services.disclosure import PolicyPoint
from hub.services.errors import Conflict, Forbidden, NotFound, Unusable


class RequestIn(BaseModel):
    subject: str = Field(pattern=r"^st_[a-z2-7]{32}$")
    items: list[str] = Field(min_length=1, max_length=100, description="hub ids of the events")
    purpose: Purpose
    reason: str = Field(
        min_length=10, max_length=1000, description="Why you need more (no names, please)"
    )


class DecisionIn(BaseModel):
    grant: bool
    reason: str = Field(min_length=3, max_length=1000)


class RequestOut(BaseModel):
    request_id: str
    status: str
    holding_agency: str
    items: list[str]
    subject: str
    purpose: str
    requester_role: str
    requester_agency: str | None
    reason: str
    decision_reason: str | None = None


def _requester(principal: Principal) -> None:
    """Practitioners acting for an agency ask for more; so may a Marac chair or coordinator,
    who also sees some items as involvement only (the holding agency answers them)."""
    if principal.kind == "person" and principal.role in MARAC_ROLES:
        return
    if principal.kind != "person" or principal.role in PERSON_ROLES or not principal.agency_id:
        raise Forbidden(
            "requests for more are made by practitioners acting for an agency, or by a Marac "
            "chair or coordinator"
        )


def _audit(policy: PolicyPoint, principal: Principal, purpose: str, action: str, subject: str,
           items: list[str]) -> None:  # fmt: skip
    policy.audit(principal, purpose, action, [], [subject], items, [], action)


def open_request(services: HubContext, principal: Principal, body: RequestIn) -> RequestOut:
    """Ask the agency holding these events to let the reader see more than involvement."""
    _requester(principal)
    store, policy = services.ingress.store, services.policy
    if principal.role in MARAC_ROLES:  # a Marac reader asks within their area only
        where = "POST /v1/requests"
        require_subjects_in_area(services, principal, body.purpose.value, where, [body.subject])
    held = [store.get(i) for i in body.items]
    if any(e is None or body.subject not in {s.token for s in e.subjects} for e in held):
        raise Unusable("every item must be an event about the subject")
    holders = {e.agency_id for e in held if e is not None}
    if len(holders) != 1:
        raise Unusable(f"these items are held by {len(holders)} agencies; ask each one separately")
    _audit(policy, principal, body.purpose.value, "access requested", body.subject, body.items)
    req = policy.requests.open(
        requester_id=principal.principal_id, requester_role=principal.role,
        requester_agency=principal.agency_id, subject=body.subject, items=body.items,
        holding_agency=holders.pop(), purpose=body.purpose.value, reason=body.reason,
    )  # fmt: skip
    return RequestOut(**req.view())


def _ig_officer(principal: Principal) -> bool:
    return principal.kind == "person" and principal.role == PersonRole.IG_OFFICER


def visible_requests(services: HubContext, principal: Principal) -> list[RequestOut]:
    """The reader's own requests, those addressed to their agency, (Marac) every open one
    (of their area, when bound to one), and (IG officers) every request."""
    people_only(principal)
    policy = services.policy
    if _ig_officer(principal):
        found = policy.requests.every()
    else:
        found = policy.requests.visible_to(
            principal.principal_id, principal.agency_id, principal.role in MARAC_ROLES
        )
    if principal.area is not None:
        found = [r for r in found if in_area(principal, subject_area(services, r.subject))]
    for r in found:
        _audit(policy, principal, r.purpose, "access requests listed", r.subject, [r.request_id])
    return [RequestOut(**r.view()) for r in found]


def decide_request(
    services: HubContext, principal: Principal, request_id: str, body: DecisionIn
) -> RequestOut:
    """Grant or refuse: the holding agency's practitioners, a Marac chair or coordinator, or
    an IG officer."""
    policy = services.policy
    req = policy.requests.get(request_id)
    if req is None:
        raise NotFound(f"no access request {request_id}")
    if principal.principal_id == req.requester_id:
        raise Forbidden("you asked for this: the holding agency or another Marac reader answers")
    holder = principal.kind == "person" and principal.agency_id == req.holding_agency
    if not (holder or principal.role in MARAC_ROLES or _ig_officer(principal)):
        raise Forbidden(
            f"only {req.holding_agency}'s practitioners, a Marac chair or an IG officer may "
            "answer this request"
        )
    action = "access granted" if body.grant else "access refused"
    if not holder:  # a Marac reader or IG officer, who answers for their area only
        where = f"POST /v1/requests/{request_id}/decision"
        require_subjects_in_area(services, principal, req.purpose, where, [req.subject])
    _audit(policy, principal, req.purpose, action, req.subject, list(req.items))
    if not policy.requests.decide(request_id, body.grant, principal.principal_id, body.reason):
        raise Conflict(f"request {request_id} was already {req.status}")
    decided = policy.requests.get(request_id)
    assert decided is not None
    return RequestOut(**decided.view())


def request_more_of_item(
    services: HubContext, principal: Principal, hub_id: str, purpose: Purpose, reason: str
) -> RequestOut:
    """The family page's "request more": one involvement-only item, asked about the person it
    is about (its victim, or else its first subject), through open_request's checks."""
    event = services.ingress.store.get(hub_id)
    if event is None:
        raise NotFound(f"no event {hub_id}")
    victims = [s.token for s in event.subjects if s.role == "victim"]
    about = victims[0] if victims else event.subjects[0].token
    return open_request(
        services,
        principal,
        RequestIn(subject=about, items=[hub_id], purpose=purpose, reason=reason),
    )
