"""Time rules, driven by the hub clock (``hub.clock.ticked``), never the wall clock.

First contact overdue: a referral to a service that contacts people (area setting
``first_contact_services``) with no contact attempt about the person within
``first_contact_working_days`` working days. The deadline is the end of the last of those
working days (hub.domain.calendar). The condition is fixed once the deadline has passed, so
evaluating at the tick or any time later gives the same answer: an attempt counts when its
event time lies in [referral time, deadline] and it reached the hub (recorded_at) by the
deadline, or by the time the referral itself reached the hub if that was later (a referral
sent late cannot be held to attempts nobody could have recorded in time).

Action overdue: a Marac action (hub.domain.family.actions) with a due date, still open or in
progress when the clock passes the end of that date (local midnight after it, in the area's
time zone). It goes to the chair. Unlike first contact, the owning agency's later update
withdraws it: the alert says "this is still not done", and a done action no longer is; the
answer is a function of the events and the clock, so live still equals a rebuild.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hub.contract.vocabulary import EventType
from hub.domain.areas import AreaSettings
from hub.domain.calendar import Calendar, add_working_days
from hub.domain.family import Entry, FamilyProjection, TrackedAction, tracked_actions
from hub.domain.rules.base import Alert, Context


def _referrals(ctx: Context) -> list[tuple[Entry, str, datetime]]:
    """(referral, person referred, deadline) for each referral expecting a contact."""
    out = []
    for e in ctx.entries:
        if (
            e.type != EventType.REFERRAL_MADE
            or e.facts.get("to") not in ctx.area.first_contact_services
        ):
            continue
        if e.about():
            due = add_working_days(e.time, ctx.area.first_contact_working_days, ctx.cal)
            out.append((e, e.about()[0], due))
    return out


def _unanswered(ctx: Context, referral: Entry, person: str, due: datetime) -> bool:
    """No contact attempt counts for this referral (see the module docstring)."""
    known_by = max(due, referral.recorded_at)
    return not any(
        referral.time <= c.time <= due and c.recorded_at <= known_by
        for c in ctx.about(person, EventType.CONTACT_ATTEMPTED)
    )


def first_contact_overdue(ctx: Context) -> list[Alert]:
    """Referral with no contact attempt by its deadline, once the clock has passed it."""
    out = []
    days = ctx.area.first_contact_working_days
    for r, person, due in _referrals(ctx):
        if ctx.clock is None or ctx.clock < due or not _unanswered(ctx, r, person, due):
            continue
        reason = (
            f"Referral to {r.facts.get('to')} ({ctx.cite(r)}): no contact attempt recorded "
            f"within {days} working days (by {ctx.local(due)})"
        )
        action = (
            "Make a first contact attempt now, or record the one made. A referral is never "
            "closed because contact has not yet been made."
        )
        victim = person if person in ctx.victims else None  # e.g. a perpetrator programme
        out.append(
            ctx.alert("first_contact_overdue", (r.hub_id,), victim, [r], reason, action, due)
        )
    return out


def action_deadline(a: TrackedAction, cal: Calendar) -> datetime | None:
    """When an action with a due date becomes overdue: the local midnight after that date."""
    if a.due_date is None:
        return None
    return cal.at_local(date.fromisoformat(a.due_date) + timedelta(days=1), time(0, 0))


def _unfinished_actions(p: FamilyProjection, cal: Calendar) -> list[tuple[TrackedAction, datetime]]:
    return [
        (a, due)
        for a in tracked_actions(p)
        if not a.finished and (due := action_deadline(a, cal)) is not None
    ]


def action_overdue(ctx: Context) -> list[Alert]:
    """A Marac action still not done (or found not possible) once its due date has passed."""
    out = []
    for a, due in _unfinished_actions(ctx.p, ctx.cal):
        if ctx.clock is None or ctx.clock < due:
            continue
        heard = ctx.hearing(a.hearing_id)
        owner = ctx.area.label(a.owner_agency)
        state = "in progress" if a.state == "in_progress" else "still open"
        reason = (
            f'Marac action "{a.type.replace("_", " ")}" owned by {owner}, agreed at the '
            f"meeting of {a.meeting_date}, was due by {a.due_date} and is {state}"
        )
        action = (
            f"Ask {owner} for an update; the agency records progress on its action "
            "(in progress, done, or not possible with the reason)."
        )
        victim = a.victims[0] if a.victims else None
        key = (a.action_id,)
        out.append(ctx.alert("action_overdue", key, victim, [heard], reason, action, due))
    return out


def next_due(
    p: FamilyProjection, area: AreaSettings, after: datetime | None = None
) -> datetime | None:
    """When the family next needs evaluating for time rules: the earliest deadline after
    `after` (default: the projection's clock) of a referral still without a counting contact
    attempt, or of a Marac action not finished; None when no deadline is pending."""
    ctx = Context(p, area, None)
    after = p.clock if after is None else after
    dues = [
        due
        for r, person, due in _referrals(ctx)
        if (after is None or due > after) and _unanswered(ctx, r, person, due)
    ]
    dues += [
        due for _a, due in _unfinished_actions(p, area.calendar) if after is None or due > after
    ]
    return min(dues, default=None)
