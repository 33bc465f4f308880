"""Schema versions and upcasters: an event written to an older version stays readable.

An upcaster turns the ``data`` of version n into version n + 1. Ingress applies them to an
incoming event that names an older ``dataschema``; the event store applies them to stored
canonical events written before a newer version existed. Upcasters see only non-personal
fields (subjects are tokens by then, or handled separately), so one function serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hub.contract.vocabulary import EventType

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

SCHEMA_URN = "urn:hub:schema:{type}:v{version}"
_URN = re.compile(r"^urn:hub:schema:(?P<type>[a-z_.]+):v(?P<version>\d+)$")

CURRENT_VERSION: dict[str, int] = {
    EventType.POLICE_INCIDENT: 2,
    EventType.HEALTH_ATTENDANCE: 1,
    EventType.MARKER_ADDED: 1,
    EventType.MARKER_REMOVED: 1,
    EventType.REFERRAL_MADE: 1,
    EventType.RISK_DASH: 1,
    EventType.CONTACT_ATTEMPTED: 1,
    EventType.NEEDS_IDENTIFIED: 1,
    EventType.MARAC_CASE_HEARD: 1,
    EventType.MARAC_ACTION_UPDATED: 1,
    EventType.CONSENT_RECORDED: 1,
    EventType.CONSENT_WITHDRAWN: 1,
    EventType.RELATIONSHIP_DECLARED: 1,
    EventType.CASE_CLOSED: 2,
}


def police_incident_v1_to_v2(data: Data) -> Data:
    """v1 said only whether a weapon was involved; v2 says which, and lists children's ages
    (unknown for v1 events, so empty)."""
    out = dict(data)
    weapon = out.pop("weapon", False)
    out["weapon"] = "weapon" if weapon is True else ("none" if weapon is False else weapon)
    out.setdefault("children_ages", [])
    return out


def case_closed_v1_to_v2(data: Data) -> Data:
    """v1 said only what happened next (continue, onward referral, exit); v2 may add why
    support ended and the outcomes measured at exit. A v1 closure had neither, so both stay
    absent: "not recorded", never guessed from the outcome."""
    return dict(data)


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    (EventType.POLICE_INCIDENT, 1): police_incident_v1_to_v2,
    (EventType.CASE_CLOSED, 1): case_closed_v1_to_v2,
}


class UnknownSchema(ValueError):
    """The dataschema names a type or version the hub does not know."""


def schema_urn(event_type: str, version: int | None = None) -> str:
    return SCHEMA_URN.format(type=event_type, version=version or CURRENT_VERSION[event_type])


def version_of(event_type: str, dataschema: str | None) -> int:
    """The version an event was written to: from its dataschema, or the current one."""
    current = CURRENT_VERSION[event_type]
    if dataschema is None:
        return current
    m = _URN.match(dataschema)
    if not m or m["type"] != event_type or not 1 <= int(m["version"]) <= current:
        known = ", ".join(schema_urn(event_type, v) for v in range(1, current + 1))
        raise UnknownSchema(f"dataschema {dataschema!r} is not known for {event_type}; use {known}")
    return int(m["version"])


def upcast(event_type: str, version: int, data: Data) -> Data:
    """Bring data written to `version` up to the current version of its type (the hub's own
    internal event types, outside the contract, have one version)."""
    while version < CURRENT_VERSION.get(event_type, version):
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return data
