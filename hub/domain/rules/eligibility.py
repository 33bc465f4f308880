"""Who a Marac-threshold alert may send where: Marac and the community Idva service are for
victims 16 or over (DOMAIN.md). Where the hub knows the victim was younger, the alert says so
and points to children's safeguarding instead of asking for a referral.
"""

from __future__ import annotations

from datetime import date

from hub.contract.vocabulary import EventType
from hub.domain.family import Entry
from hub.domain.rules.base import Context

__all__ = ["ELIGIBLE_AGE", "for_16_or_over", "under_16"]

# Marac and the community Idva service are for victims 16 or over (DOMAIN.md); a younger
# victim's case belongs to children's safeguarding.
ELIGIBLE_AGE = 16
CHILDREN = "refer to children's safeguarding (children's social care) instead"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one: the day before, never after
        return day.replace(year=day.year + years, day=28)


def under_16(ctx: Context, victim: str, at: Entry) -> Entry | None:
    """The Dash showing the victim was still under 16 at the point, or None when that is not
    known. The latest Dash at or before the point that states the victim's age decides: aged
    a on day d, the victim is 16 at the earliest on the day after d + (15 - a) years (when d
    was their last day at age a), so up to that date they are known to be under 16. Ages are
    stated only on Dashes: dates of birth are sealed, the rules never see them."""
    stated = [
        e
        for e in ctx.about(victim, EventType.RISK_DASH)
        if e.facts.get("victim_age") is not None and e.key <= at.key
    ]
    if not stated:
        return None
    latest = stated[-1]
    age = int(latest.facts["victim_age"])
    if age >= ELIGIBLE_AGE:
        return None
    last_day = _years_after(ctx.day(latest.time), ELIGIBLE_AGE - 1 - age)
    return latest if ctx.day(at.time) <= last_day else None


def for_16_or_over(
    ctx: Context, victim: str, at: Entry, reason: str, action: str, service: str = "Marac"
) -> tuple[str, str]:
    """The reason and action, or, where the victim is known to be under 16 at the point,
    words saying the service is for those 16 or over and pointing to children's
    safeguarding instead."""
    young = under_16(ctx, victim, at)
    if young is None:
        return reason, action
    age = young.facts["victim_age"]
    reason += f"; the victim is under 16 (aged {age} by {ctx.cite(young)})"
    action = f"{service} is for victims 16 or over: {CHILDREN}."
    return reason, action
