"""What an administrator reads about how the hub is set: the rules in force per Marac area
(the page form of `hub rules show`) and the sharing policy per role and event type (the page
form of `hub policy explain`). Read-only; only an administrator (or the operator) may look,
and a refusal is audited (hub.services.admin.Administration.require_admin).
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.decision import Item
from consent.explain import explain
from consent.policy import SharingPolicy
from hub.adapters.sql.principals import Principal
from hub.contract import EVENT_TYPES
from hub.domain.areas import AreaBook, SettingInForce, settings_in_force
from hub.domain.rules.catalogue import RuleInForce, rules_in_force
from hub.services.access import Purpose
from hub.services.admin import Administration, invalid
from hub.services.disclosure import data_fields_of
from hub.services.errors import Unusable

PURPOSES = tuple(p.value for p in Purpose)


@dataclass(frozen=True)
class AreaRules:
    area: str
    areas: list[str]  # every configured area, [default] first
    rules: list[RuleInForce]
    other: list[SettingInForce]  # settings no rule reads: agencies, labels, Kafka plaintext


def area_rules(admin: Administration, actor: Principal, book: AreaBook, area: str) -> AreaRules:
    """The rules and the settings in force in one area (Unusable for an area not listed)."""
    admin.require_admin(actor, "admin rules in force")
    names = book.names()
    if area not in names:
        raise invalid("area", f"Choose an area from the rules file (one of: {', '.join(names)})")
    settings = book.get(area)
    rules = rules_in_force(settings, book.default)
    read = {s.key for r in rules for s in r.settings}
    other = [s for s in settings_in_force(settings, book.default) if s.key not in read]
    return AreaRules(area, names, rules, other)


def explain_policy(
    policy: SharingPolicy, role: str, event_type: str, purpose: str, own_agency: bool
) -> str:
    """What a role sees of an event type for a purpose, and why, in words."""
    if event_type not in EVENT_TYPES:
        raise Unusable(
            f"unknown event type {event_type!r}; choose one of: {', '.join(EVENT_TYPES)}"
        )
    fields, sealed = data_fields_of(event_type)
    item = Item("(example)", event_type, "(holding agency)", (), None, None, fields, sealed)
    return explain(policy, item, role, purpose, own_agency)


@dataclass(frozen=True)
class Explained:
    event_type: str
    view: str  # the view the policy gives, or "refused"
    explanation: list[str]  # `hub policy explain`'s lines


def policy_for_role(
    admin: Administration, actor: Principal, policy: SharingPolicy, role: str, purpose: str,
    own_agency: bool,
) -> list[Explained]:  # fmt: skip
    """What a role sees of each event type for a purpose, and why (`hub policy explain` for
    every event type at once)."""
    admin.require_admin(actor, "admin sharing policy")
    if role not in admin.roles():
        raise invalid("role", f"Choose a role (one of: {', '.join(admin.roles())})")
    if purpose not in PURPOSES:
        raise invalid("purpose", f"Choose a purpose (one of: {', '.join(PURPOSES)})")
    found = []
    for event_type in EVENT_TYPES:
        rule = policy.rule_for(event_type, role, purpose, own_agency)
        view = rule.view if rule is not None and rule.view else "refused"
        text = explain_policy(policy, role, event_type, purpose, own_agency)
        found.append(Explained(event_type, view, text.splitlines()))
    return found
