"""Who may read and act: the guards every service applies before it shows or changes anything
about a person, and the purposes a reader states. Each guard raises Forbidden with a message
that says why.

The area boundary lives here, once. A Marac chair or coordinator bound to an area
(principals.area) reads and acts on that area's people only:

- a family belongs to the area its alerts go to (hub.domain.areas.victim_area, as the
  projector routes alerts);
- a subject belongs to its family's area; a subject whose family the hub does not know yet
  belongs to no area, so only a reader bound to no area may see it (fail closed);
- a possible match belongs to the areas of both sides' families: a reader bound to an area
  sees and decides a match only when both sides are in it. A match across two areas is
  left to a chair or coordinator bound to no area, because confirming it would join a
  family of another area to theirs;
- an alert belongs to its area.

A refusal at the boundary, like a refusal by the sharing policy, is written to the audit log
(outcome "refused", with the subjects asked about and no decisions, so it counts nothing)
before the 403 goes out; it does not say which area the thing belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from consent.policy import MARAC_ROLES
from hub.adapters.sql.families import family_id_of_token, find_family
from hub.adapters.sql.principals import Principal
from hub.domain.areas import victim_area
from hub.domain.family import FamilyProjection
from hub.services.context import HubContext
from hub.services.errors import Forbidden

REFUSED = "refused"  # the audit outcome of a refusal, as the policy point writes it


class Purpose(StrEnum):
    marac_case_preparation = "marac_case_preparation"
    marac_meeting = "marac_meeting"
    safeguarding_review = "safeguarding_review"


def marac_only(principal: Principal, what: str = "read alerts") -> None:
    if principal.kind != "person" or principal.role not in MARAC_ROLES:
        raise Forbidden(
            f"role '{principal.role}' may not {what}; alerts go to Marac chairs and coordinators"
        )


def area_in_scope(principal: Principal, asked: str | None) -> str | None:
    """The area the reader may look at: their own when they have one (asking for another is
    Forbidden), else what they asked for (None: every area)."""
    if principal.area is None:
        return asked
    if asked is None or asked == principal.area:
        return principal.area
    raise Forbidden(
        f"you act for Marac area '{principal.area}'; alerts of area '{asked}' go to that "
        "area's chair and coordinator"
    )


def people_only(principal: Principal) -> None:
    if principal.kind != "person":
        raise Forbidden("agency systems send events; people read")


# --- the area boundary ---------------------------------------------------------------------


def in_area(principal: Principal, area: str | None) -> bool:
    """May this reader see a thing of this area (None: of no known area)?"""
    return principal.area is None or (area is not None and area == principal.area)


def family_area(ctx: HubContext, family_id: str) -> str | None:
    """The area a family's alerts go to; None for an unknown (or merged-away) family id."""
    found = find_family(ctx.engine, family_id)
    if found is None or found.state is None:
        return None
    return victim_area(FamilyProjection.from_dict(found.state), ctx.areas).name


def subject_area(ctx: HubContext, token: str) -> str | None:
    """The area of the subject's family; None while the hub knows no family for it."""
    family = family_id_of_token(ctx.engine, token)
    return None if family is None else family_area(ctx, family)


def refuse(
    ctx: HubContext, principal: Principal, purpose: str, action: str, message: str,
    subjects: Sequence[str], items: Sequence[str] = (),
) -> Forbidden:  # fmt: skip
    """Audit a refusal (raises AuditError: the caller answers 503) and return the error to
    raise. No decisions are recorded, so the record says nothing of what is held."""
    ctx.policy.audit(principal, purpose, action, [], subjects, items, [], REFUSED)
    return Forbidden(message)


def require_area(
    ctx: HubContext, principal: Principal, purpose: str, action: str,
    areas: Iterable[str | None], subjects: Sequence[str], items: Sequence[str] = (),
) -> None:  # fmt: skip
    """Refuse (audited) unless the reader is bound to no area or every area given is theirs;
    an empty or unknown (None) area is not theirs."""
    if principal.area is None:
        return
    found = list(areas)
    if found and all(in_area(principal, a) for a in found):
        return
    raise refuse(
        ctx, principal, purpose, action,
        f"you act for Marac area '{principal.area}'; this belongs to another area (or the hub "
        "has not linked it to a family yet), so it is for that area's chair and coordinator",
        subjects, items,
    )  # fmt: skip


def require_subjects_in_area(
    ctx: HubContext, principal: Principal, purpose: str, action: str, tokens: Sequence[str],
    items: Sequence[str] = (),
) -> None:  # fmt: skip
    """Refuse (audited) unless every subject's family is in the reader's area."""
    if principal.area is None:
        return
    areas = [subject_area(ctx, t) for t in tokens]
    require_area(ctx, principal, purpose, action, areas, tokens, items)


# --- readers the sharing policy refuses everything -----------------------------------------


def require_case_reader(
    ctx: HubContext, principal: Principal, purpose: str, action: str, subjects: Sequence[str]
) -> None:
    """Refuse (audited, 403) a reader to whom the sharing policy shows no event at all for
    this purpose (IG officers, administrators), before anything is looked up: answering
    with every item withheld would still tell them how much the hub holds."""
    people_only(principal)
    reason = ctx.policy.refusal_for(principal, purpose)
    if reason is not None:
        raise refuse(ctx, principal, purpose, action, reason, subjects)
