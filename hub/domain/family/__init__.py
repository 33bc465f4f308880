"""The projection of one family: a pure, order-independent fold of canonical events.

    p = FamilyProjection(family_id)
    p = apply_event(p, event, person_of)   # person_of: subject token → person id
    p.to_dict()                            # timeline + derived views, JSON-safe

State is the timeline only (see projection.py); views.py derives members, relations, risk,
markers, needs, agencies, Marac history and alert states from it, with the shared queries of
queries.py, the alert lifecycle of lifecycle.py and the Marac actions of actions.py.
"""

from hub.domain.family.actions import TrackedAction, tracked_actions
from hub.domain.family.entry import Entry, Subject, facts_of, sealed
from hub.domain.family.lifecycle import AlertState, alert_status, shown_status
from hub.domain.family.projection import FamilyProjection, apply_event, apply_events
from hub.domain.family.queries import (
    FamilyTimeline,
    count,
    hearings_of,
    marac_cycle,
    persons_in_role,
    select,
    victims,
)
from hub.domain.family.views import (
    agencies,
    current_risk,
    derived_views,
    hearings,
    markers,
    members,
    needs,
    open_actions,
    relations,
)

__all__ = [
    "AlertState",
    "Entry",
    "FamilyProjection",
    "FamilyTimeline",
    "Subject",
    "TrackedAction",
    "agencies",
    "alert_status",
    "apply_event",
    "apply_events",
    "count",
    "current_risk",
    "derived_views",
    "facts_of",
    "hearings",
    "hearings_of",
    "marac_cycle",
    "markers",
    "members",
    "needs",
    "open_actions",
    "persons_in_role",
    "relations",
    "sealed",
    "select",
    "shown_status",
    "tracked_actions",
    "victims",
]
