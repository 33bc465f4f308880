"""Say in words what a role sees of an event type, and why (for `hub policy explain`)."""

from __future__ import annotations

from consent.decision import Item, view_fields
from consent.policy import SharingPolicy


def explain(policy: SharingPolicy, item: Item, role: str, purpose: str, own: bool) -> str:
    rule = policy.rule_for(item.event_type, role, purpose, own)
    head = f"{role} reading {item.event_type} for {purpose}" + (" (own agency)" if own else "")
    if rule is None:
        return f"{head}: refused. No rule of the sharing policy matches; nothing is shown."
    where = f"rule at line {rule.line} of the sharing policy"
    if rule.refuse is not None:
        return f"{head}: refused by the {where}: {rule.refuse}"
    assert rule.view is not None
    fields = view_fields(rule.view, item, rule.opened)
    sealed = [f for f in fields if f in item.sealed_fields]
    hidden = [f for f in item.data_fields if f not in fields]
    lines = [
        f"{head}: view '{rule.view}' by the {where}.",
        f"  sees: {', '.join(fields)}",
        f"  does not see: {', '.join(hidden) or '(nothing withheld)'}",
    ]
    if sealed:
        lines.append(f"  sealed fields opened for this reader: {', '.join(sealed)}")
    lines.append(
        "  basis: each item is shared under its own lawful basis; an item that relies on "
        "consent is shown only while a consent covering this purpose and reader is in force "
        "(or under a recorded Sch 1 para 18 override)."
    )
    return "\n".join(lines)
