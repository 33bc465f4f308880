"""Who may read and act: the guards every service applies before it looks anything up, and
the purposes a reader states. Each guard raises Forbidden with a message that says why."""

from __future__ import annotations

from enum import StrEnum

from consent.policy import MARAC_ROLES
from hub.adapters.sql.principals import Principal
from hub.services.errors import Forbidden


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
