"""The event contract agencies send: a CloudEvents 1.0 envelope and one payload per type.

People are named in ``data.subjects``; the hub replaces them with subject tokens at ingress,
so nothing past ingress sees a personal identifier.
"""

from hub.contract.common import SENSITIVE, Identifiers, LawfulBasis, Role, Subject
from hub.contract.envelope import (
    CLASS_BY_TYPE,
    EVENT_CLASSES,
    EVENT_TYPES,
    CaseClosed,
    ConsentRecorded,
    ConsentWithdrawn,
    ContactAttempted,
    DashRiskAssessment,
    Envelope,
    HealthAttendance,
    Incoming,
    IncomingEvent,
    MaracActionUpdated,
    MaracCaseHeard,
    MarkerAdded,
    MarkerRemoved,
    NeedsIdentified,
    PoliceIncident,
    ReferralMade,
    RelationshipDeclared,
    event_type_of,
)
from hub.contract.versions import CURRENT_VERSION, schema_urn, upcast
from hub.contract.vocabulary import EventType

__all__ = [
    "CLASS_BY_TYPE",
    "CURRENT_VERSION",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "SENSITIVE",
    "CaseClosed",
    "ConsentRecorded",
    "ConsentWithdrawn",
    "ContactAttempted",
    "DashRiskAssessment",
    "Envelope",
    "EventType",
    "HealthAttendance",
    "Identifiers",
    "Incoming",
    "IncomingEvent",
    "LawfulBasis",
    "MaracActionUpdated",
    "MaracCaseHeard",
    "MarkerAdded",
    "MarkerRemoved",
    "NeedsIdentified",
    "PoliceIncident",
    "ReferralMade",
    "RelationshipDeclared",
    "Role",
    "Subject",
    "event_type_of",
    "schema_urn",
    "upcast",
]
