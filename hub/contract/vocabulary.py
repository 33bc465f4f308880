"""The event types agencies send, named once (the envelope models spell each as its Literal)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    POLICE_INCIDENT = "police.incident"
    HEALTH_ATTENDANCE = "health.attendance"
    MARKER_ADDED = "marker.added"
    MARKER_REMOVED = "marker.removed"
    REFERRAL_MADE = "referral.made"
    RISK_DASH = "risk.dash"
    CONTACT_ATTEMPTED = "contact.attempted"
    NEEDS_IDENTIFIED = "needs.identified"
    MARAC_CASE_HEARD = "marac.case_heard"
    MARAC_ACTION_UPDATED = "marac.action.updated"
    CONSENT_RECORDED = "consent.recorded"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    RELATIONSHIP_DECLARED = "relationship.declared"
    CASE_CLOSED = "case.closed"
