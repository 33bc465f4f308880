"""Agency types and what each may send, loaded from data (hub/data/agency_types.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class AgencyType:
    name: str
    label: str
    may_send: frozenset[str]
    # referral destinations (referral.made ``to``) an agency of this type is the service for
    receives: frozenset[str] = frozenset()


def load_agency_types(text: str | None = None) -> dict[str, AgencyType]:
    """Parse the agency-type table; the packaged file unless text is given."""
    if text is None:
        text = resources.files("hub.data").joinpath("agency_types.toml").read_text("utf-8")
    table = tomllib.loads(text)
    return {
        name: AgencyType(
            name,
            str(entry["label"]),
            frozenset(entry["may_send"]),
            frozenset(entry.get("receives", ())),
        )
        for name, entry in table.items()
    }


def refusal_to_send(agency_type: AgencyType, event_type: str) -> str | None:
    """Why this agency type may not send this event type, or None when it may."""
    if event_type in agency_type.may_send or "*" in agency_type.may_send:
        return None
    allowed = ", ".join(sorted(agency_type.may_send))
    return (
        f"agency type '{agency_type.name}' may not send '{event_type}'; it may send: {allowed}. "
        "Ask the hub administrator if your agency's role has changed."
    )
