"""The sharing policy as data: which view of an event a role may see for a purpose."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

VIEWS = ("full", "summary", "marker_since", "occurrence", "involvement_only")


class PersonRole(StrEnum):
    """Roles of people who read from the hub without being an agency's practitioner (a
    practitioner's role is their agency type, from agency_types.toml)."""

    MARAC_CHAIR = "marac_chair"
    MARAC_COORDINATOR = "marac_coordinator"
    IG_OFFICER = "ig_officer"
    ADMIN = "admin"


MARAC_ROLES = frozenset({PersonRole.MARAC_CHAIR, PersonRole.MARAC_COORDINATOR})
PERSON_ROLES = MARAC_ROLES | {PersonRole.IG_OFFICER, PersonRole.ADMIN}


class PolicyError(ValueError):
    """The sharing policy file cannot be used; the message names the rule, line and fix."""


@dataclass(frozen=True)
class Rule:
    index: int
    line: int
    event_types: frozenset[str]
    roles: frozenset[str]
    purposes: frozenset[str]
    own_agency: bool
    view: str | None
    refuse: str | None
    # sealed fields a "summary" view opens as facts (e.g. pregnancy, not clinical notes)
    opened: frozenset[str] = frozenset()

    def matches(self, event_type: str, role: str, purpose: str, own: bool) -> bool:
        return (
            ("*" in self.event_types or event_type in self.event_types)
            and ("*" in self.roles or role in self.roles)
            and ("*" in self.purposes or purpose in self.purposes)
            and (own or not self.own_agency)
        )

    def specificity(self, event_type: str, role: str, purpose: str) -> int:
        return (
            4 * (event_type in self.event_types)
            + 2 * (role in self.roles)
            + (purpose in self.purposes)
            + 8 * self.own_agency
        )


@dataclass(frozen=True)
class SharingPolicy:
    rules: tuple[Rule, ...]

    def rule_for(self, event_type: str, role: str, purpose: str, own: bool) -> Rule | None:
        matching = [r for r in self.rules if r.matches(event_type, role, purpose, own)]
        if not matching:
            return None
        return max(matching, key=lambda r: (r.specificity(event_type, role, purpose), -r.index))


def _rule_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[rule]]"]


def load_policy(
    text: str | None, event_types: Iterable[str], roles: Iterable[str]
) -> SharingPolicy:
    """Parse and check a policy (the packaged one when text is None)."""
    if text is None:
        text = resources.files("consent.data").joinpath("sharing_policy.toml").read_text("utf-8")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"sharing policy is not valid TOML: {exc}") from None
    known_types, known_roles = set(event_types) | {"*"}, set(roles) | PERSON_ROLES | {"*"}
    lines = _rule_lines(text)
    rules = []
    for i, raw in enumerate(table.get("rule", [])):
        where = f"rule {i + 1} (line {lines[i] if i < len(lines) else '?'})"
        rules.append(
            _rule(i, lines[i] if i < len(lines) else 0, raw, where, known_types, known_roles)
        )
    if not rules:
        raise PolicyError("the sharing policy has no [[rule]]: nothing could ever be shared")
    return SharingPolicy(tuple(rules))


def _rule(
    i: int, line: int, raw: dict[str, object], where: str, types: set[str], roles: set[str]
) -> Rule:
    keys = {"event_types", "roles", "purposes", "own_agency", "view", "refuse", "open"}
    unknown_keys = set(raw) - keys
    if unknown_keys:
        raise PolicyError(f"{where}: unknown key(s) {sorted(unknown_keys)}")

    def names(key: str, known: set[str] | None) -> frozenset[str]:
        value = raw.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{where}: '{key}' must be a non-empty list of names (or [\"*\"])")
        bad = [v for v in value if known is not None and v not in known]
        if bad:
            raise PolicyError(f"{where}: unknown {key} {bad}; known: {sorted(known or ())}")
        return frozenset(value)

    view, refuse = raw.get("view"), raw.get("refuse")
    if (view is None) == (refuse is None):
        raise PolicyError(f"{where}: give exactly one of 'view' or 'refuse'")
    if view is not None and view not in VIEWS:
        raise PolicyError(f"{where}: unknown view {view!r}; use one of {', '.join(VIEWS)}")
    if refuse is not None and (not isinstance(refuse, str) or not refuse.strip()):
        raise PolicyError(f"{where}: 'refuse' must say why, in words the recipient will read")
    opened = raw.get("open", [])
    if not isinstance(opened, list) or not all(isinstance(f, str) and f for f in opened):
        raise PolicyError(f"{where}: 'open' must be a list of sealed field names")
    if opened and view != "summary":
        raise PolicyError(f"{where}: 'open' goes with view = \"summary\" only")
    return Rule(
        index=i,
        line=line,
        event_types=names("event_types", types),
        roles=names("roles", roles),
        purposes=names("purposes", None),
        own_agency=bool(raw.get("own_agency", False)),
        view=str(view) if view is not None else None,
        refuse=str(refuse) if refuse is not None else None,
        opened=frozenset(opened),
    )
