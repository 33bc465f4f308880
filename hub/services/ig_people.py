"""The IG officer's work about people: finding a person's subject tokens from what a subject
access request gives (name, date of birth, postcode; or an NHS number, PNC id or local
authority id), a subject's consent records and withdrawals, and the queue of access requests.

Finding a person. The hub keeps no index of names in clear, and opening every sealed name to
compare it would show the process everybody's. So an officer finds a person the way ingress
links one: the identifiers are turned into keyed tokens (hub.adapters.crypto.tokens) and
looked up in the person index, which answers with every token of the persons found. Name,
date of birth and postcode are needed together: they are the hub's weak key, and a name alone
would find strangers. Only the IG officers named in HUB_IG_NAME_RESOLVERS may do it (others
get 403, audited); every resolution is written to the audit log first with the tokens it
found and the kinds of identifier used, never their values.

Every page here is for IG officers only (hub.services.ig.ig_only: refusals audited), and
every look is an audit record before the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

from audit.igstore import IG_PURPOSE
from consent.policy import PersonRole
from hub.adapters.sql.families import same_person_tokens
from hub.adapters.sql.principals import Principal
from hub.contract import Identifiers
from hub.services.access import refuse
from hub.services.access_requests import DecisionIn, RequestOut, decide_request, visible_requests
from hub.services.context import HubContext
from hub.services.errors import Unusable
from hub.services.ig import IgContext, ig_only, ig_query

FIND_ACTION = "POST /ig/find"
CONSENT_FIELDS = ("consent_ref", "status", "purposes", "recipients", "event_types", "period",
                  "method", "recorded_by", "withdrawn_at")  # fmt: skip


class PersonToFind(BaseModel):
    """What a subject access request gives to find a person; blanks are None."""

    name: str | None = Field(None, max_length=200)
    date_of_birth: str | None = Field(None, max_length=10)
    postcode: str | None = Field(None, max_length=10)
    nhs_number: str | None = Field(None, pattern=r"^\d{10}$")
    pnc_id: str | None = Field(None, min_length=4, max_length=20)
    local_authority_id: str | None = Field(None, min_length=1, max_length=40)

    def kinds(self) -> list[str]:
        """The kinds of identifier given (recorded in the audit log; the values are not)."""
        return [k for k, v in self.model_dump().items() if v]


def may_resolve_names(ctx: HubContext, principal: Principal) -> bool:
    return principal.role == PersonRole.IG_OFFICER and principal.name in (
        ctx.settings.name_resolvers
    )


def find_person(ctx: IgContext, principal: Principal, who: PersonToFind) -> list[str]:
    """Every subject token of the persons these identifiers name ([] when the hub holds none)."""
    ig_only(ctx, principal, FIND_ACTION)
    if not may_resolve_names(ctx, principal):
        raise refuse(
            ctx, principal, IG_PURPOSE, FIND_ACTION,
            "finding a person by name or identifier is for the IG officers named in "
            "HUB_IG_NAME_RESOLVERS; search by subject token instead", [],
        )  # fmt: skip
    tokeniser = ctx.ingress.tokeniser
    weak_parts = (who.name, who.date_of_birth, who.postcode)
    if any(weak_parts) and not all(weak_parts):
        raise Unusable("give the name, date of birth and postcode together (or an identifier)")
    if who.date_of_birth:
        try:
            date.fromisoformat(who.date_of_birth)
        except ValueError:
            raise Unusable("enter the date of birth like 1990-01-31") from None
    ids = {k: getattr(who, k) for k in ("nhs_number", "pnc_id", "local_authority_id")}
    strong = tokeniser.strong_tokens(Identifiers(**ids)) if any(ids.values()) else ()
    weak = tokeniser.weak_key(*weak_parts) if all(weak_parts) else None  # type: ignore[arg-type]
    if weak is None and not strong:
        raise Unusable("give a name, date of birth and postcode, or an identifier")
    found = same_person_tokens(ctx.engine, strong, weak)
    ig_query(ctx, principal, FIND_ACTION, found, who.kinds())
    return found


@dataclass(frozen=True)
class ConsentView:
    consent_ref: str
    status: str  # given | refused | withdrawn
    purposes: list[str]
    recipients: list[str]  # [] means anyone
    event_types: list[str]  # [] means every type
    start: date
    end: date | None
    method: str
    recorded_by: str  # role and agency
    recorded_at: datetime
    withdrawn_at: datetime | None


def consents(ctx: IgContext, principal: Principal, token: str) -> list[ConsentView]:
    """The subject's consent records and withdrawals, oldest first: what each covers and since
    when. A withdrawal stops sharing that relied on that consent only, never sharing under
    another lawful basis."""
    ig_query(ctx, principal, f"GET /ig/consent/{token}", [token], CONSENT_FIELDS)
    found = ctx.policy.consents_for([token]).values()
    return [
        ConsentView(
            r.consent_ref, r.status, sorted(r.provision.purposes),
            sorted(r.provision.recipients), sorted(r.provision.event_types),
            r.provision.start, r.provision.end, r.method,
            f"{r.recorded_by_role}, {r.recorded_by_agency}", r.recorded_at, r.withdrawn_at,
        )
        for r in sorted(found, key=lambda r: (r.recorded_at, r.consent_ref))
    ]  # fmt: skip


def request_queue(ctx: HubContext, principal: Principal) -> list[RequestOut]:
    """Every access request, open ones first (each listing audited, as for any reader)."""
    ig_only(ctx, principal, "GET /ig/requests")
    return visible_requests(ctx, principal)


def answer_request(
    ctx: HubContext, principal: Principal, request_id: str, body: DecisionIn
) -> RequestOut:
    """Grant or refuse with a reason, as hub.services.access_requests.decide_request."""
    ig_only(ctx, principal, f"POST /ig/requests/{request_id}")
    return decide_request(ctx, principal, request_id, body)
