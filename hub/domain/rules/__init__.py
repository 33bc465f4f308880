"""Rules: pure functions of (family projection, area settings, hub clock) that find alerts.

``evaluate`` returns the complete set of alerts the family meets now, judging every event as
of its own time over the whole timeline, so the answer depends only on the set of events and
the clock, never on arrival order: replay equals live, and evaluating twice gives the same
alerts. No wall clock: time rules fire only when the clock (from ``hub.clock.ticked``) has
passed their deadline; ``next_due`` says when that will be.

Alert identity. ``alert_id = uuid5(HUB_NAMESPACE, "alert", rule, *condition key)``; the key
never includes the growing set of triggers, so a rule that fires again for the same condition
updates its alert instead of adding one:

| rule | condition key |
|---|---|
| visible_high_risk, professional_judgement, potential_escalation | victim person, Marac cycle |
| medium_risk, complex_case, complex_needs | victim person, Marac cycle |
| toxic_trio, toxic_trio_children, risk_downgraded | victim person, Marac cycle |
| repeat_marac_case | victim person, the Marac referral it repeats (or hearing, if no referral) |
| serial_perpetrator | perpetrator person, family (case): each of his cases has its own |
| children_present | the incident's hub id |
| first_contact_overdue | the referral's hub id |
| action_overdue | the Marac action's id (``<hearing hub id>.<n>``) |

The **Marac cycle** of an event is the hub id of the victim's latest ``marac.case_heard`` at
or before it ("none" before any): once a case has been heard, new triggers make a new alert
(the chair needs to see the case again), while triggers between hearings update one alert.
Toxic trio is keyed by the victim whose abuse is part of it (one alert per abused victim in
the household). Person ids come from the person index: a merge of two persons gives their
alerts new ids (the projector withdraws the old ones, as it withdraws any alert the
rules no longer find, so the live alerts equal a rebuild's).

Windows are on event time, in whole local days of the area's time zone, both ends inclusive:
the default "12 months" reaches back to the same calendar date a year earlier (from 29
February, to 28 February), so 2027-03-01 to 2028-03-01 (366 days) is inside; an area may set
a window in days instead.

Words: reasons say what was recorded, when and by whom; they never blame the victim
("we were not able to engage them into the service", never "refused to engage").

Lifecycle (``hub.domain.family.AlertState``): the latest decision on an alert id is its
status; a dismissed alert whose triggers grow by an event recorded after the dismissal is
shown as "reopened".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hub.domain.areas import AreaSettings
from hub.domain.family import FamilyProjection
from hub.domain.rules.base import Alert, Context, alert_id
from hub.domain.rules.deadlines import action_overdue, first_contact_overdue, next_due
from hub.domain.rules.household import (
    children_present,
    complex_needs,
    serial_perpetrator,
    toxic_trio,
    toxic_trio_children,
)
from hub.domain.rules.marac import (
    complex_case,
    medium_risk,
    potential_escalation,
    professional_judgement,
    repeat_marac_case,
    risk_downgraded,
    visible_high_risk,
)

Rule = Callable[[Context], list[Alert]]

RULES: tuple[Rule, ...] = (
    visible_high_risk,
    professional_judgement,
    potential_escalation,
    repeat_marac_case,
    medium_risk,
    complex_case,
    complex_needs,
    toxic_trio,
    toxic_trio_children,
    serial_perpetrator,
    children_present,
    first_contact_overdue,
    risk_downgraded,
    action_overdue,
)
RULE_NAMES = tuple(r.__name__ for r in RULES)


def evaluate(p: FamilyProjection, area: AreaSettings, clock: datetime | None) -> list[Alert]:
    """Every alert the family meets now, sorted by alert id."""
    ctx = Context(p, area, clock)
    return sorted((a for rule in RULES for a in rule(ctx)), key=lambda a: a.alert_id)


__all__ = ["RULES", "RULE_NAMES", "Alert", "alert_id", "evaluate", "next_due"]
