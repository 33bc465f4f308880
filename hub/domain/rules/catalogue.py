"""Which rules exist, in plain words: one place that names each rule, says what it looks for
and who must act on it, and lists the area settings (hub.domain.areas.AreaSettings) it reads.

`hub rules show` and the administrator's "Rules in force" page both print from here; a unit
test checks that every rule in ``hub.domain.rules.RULES`` has exactly one entry and that every
setting named is a real one, so a new rule cannot go undescribed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.areas import AreaSettings, SettingInForce, settings_in_force

__all__ = ["CATALOGUE", "RuleInForce", "RuleInfo", "describe_rules", "rule_info", "rules_in_force"]


@dataclass(frozen=True)
class RuleInfo:
    name: str  # the rule's function name, as alerts carry it
    title: str  # a few words, as a heading
    description: str  # what it looks for and what it asks, in plain words
    # who must act on its alert (DOMAIN.md); today every alert also reaches the Marac inbox
    who_acts: str
    # the AreaSettings it reads (and the calendar's, by key); one that is unset (window_days
    # while the window is in months) is not in force and not shown
    settings: tuple[str, ...]


# The window: window_months calendar months back to the same date (12: "12 months"), or
# window_days days where an area counts in days; only the one in force is shown.
_WINDOW = ("window_months", "window_days")

CATALOGUE: tuple[RuleInfo, ...] = (
    RuleInfo(
        "visible_high_risk", "Visible high risk",
        "A Dash risk assessment with dash_high_risk or more 'yes' answers: refer the case to "
        "Marac (for a victim a Dash states is under 16: children's safeguarding instead).",
        "Marac chair", ("dash_high_risk",),
    ),
    RuleInfo(
        "professional_judgement", "Professional judgement",
        "A referral flagged as professional judgement with its stated concern, or a Dash below "
        "the high-risk score whose assessor's judgement raised the risk to high: refer to "
        "Marac. Judgement raising a score to medium routes to the community Idva instead. A "
        "victim a Dash states is under 16 goes to children's safeguarding, not Marac.",
        "Marac chair", ("dash_high_risk",),
    ),
    RuleInfo(
        "potential_escalation", "Potential escalation",
        "escalation_events or more domestic-abuse events about the same victim, from any "
        "agency, within the window and one Marac cycle: consider Marac.",
        "Marac chair", ("escalation_events", *_WINDOW),
    ),
    RuleInfo(
        "repeat_marac_case", "Repeat Marac case",
        "Abuse between the same victim and perpetrator, reported by any agency, within the "
        "window after the victim's last Marac referral (or hearing, where the hub holds no "
        "referral): refer back to Marac. After the window it is a new referral.",
        "Marac chair", _WINDOW,
    ),
    RuleInfo(
        "medium_risk", "Medium risk",
        "A Dash score from medium_risk_min to medium_risk_max not raised to high, or a lower "
        "score the assessor's judgement raised to medium: route the case to the community "
        "Idva service (from 16; a younger victim goes to children's safeguarding).",
        "Community Idva", ("medium_risk_min", "medium_risk_max"),
    ),
    RuleInfo(
        "complex_case", "Complex case",
        "complex_case_referrals or more referrals of the victim into the service "
        "(complex_case_services) in the window, and poor_engagement_attempts or more contact "
        "attempts that did not reach them: refer to the complex-case team. What counts as "
        "poor engagement is local practice, not a figure from the sources.",
        "Complex-case team",
        ("complex_case_referrals", "complex_case_services", "poor_engagement_attempts",
         *_WINDOW),
    ),
    RuleInfo(
        "complex_needs", "Complex needs",
        "Drug misuse, alcohol misuse or mental health needs reported about the victim in the "
        "window: make sure those services are part of the plan.",
        "Marac chair", _WINDOW,
    ),
    RuleInfo(
        "toxic_trio", "Toxic trio",
        "Domestic abuse of the victim, and mental ill-health and substance misuse in the "
        "household, within the window, children or not.",
        "Marac chair", _WINDOW,
    ),
    RuleInfo(
        "toxic_trio_children", "Toxic trio with children",
        "The toxic trio with a child known to be in the victim's household: the stronger "
        "alert, saying to tell children's social care.",
        "Marac chair and children's social care", _WINDOW,
    ),
    RuleInfo(
        "serial_perpetrator", "Serial perpetrator",
        "A perpetrator linked to serial_perpetrator_victims or more victims, counted across "
        "his cases (each victim's case is its own, linked through him), or carrying a "
        "police high-risk-perpetrator marker: a flag for review (consider a Domestic Violence "
        "Disclosure Scheme application), never a finding. Each of his cases is told.",
        "Marac chair", ("serial_perpetrator_victims",),
    ),
    RuleInfo(
        "children_present", "Children present (Operation Encompass)",
        "A police incident with a child in the victim's household: tell the child's school and "
        "children's services before the next school day starts.",
        "School and children's social care",
        ("timezone", "school_day_start", "holidays", "school_holidays"),
    ),
    RuleInfo(
        "first_contact_overdue", "First contact overdue",
        "A referral to one of first_contact_services with no contact attempt within "
        "first_contact_working_days working days (weekends and holidays not counted).",
        "The service referred to",
        ("first_contact_services", "first_contact_working_days", "timezone", "holidays"),
    ),
    RuleInfo(
        "risk_downgraded", "Risk downgraded",
        "A Dash that puts the victim in a lower risk level than an earlier Dash within the "
        "window: check the later assessor knew the background before lowering the response.",
        "Marac chair", ("dash_high_risk", "medium_risk_min", *_WINDOW),
    ),
    RuleInfo(
        "action_overdue", "Marac action overdue",
        "An action agreed at a Marac hearing whose due date has passed and that its owning "
        "agency has not marked done or not possible: chase the owner.",
        "Marac chair (the owning agency should act)", ("timezone",),
    ),
)  # fmt: skip

_BY_NAME = {r.name: r for r in CATALOGUE}


def rule_info(name: str) -> RuleInfo | None:
    """The plain-words entry of a rule, by its name; None for a name no rule has."""
    return _BY_NAME.get(name)


@dataclass(frozen=True)
class RuleInForce:
    rule: RuleInfo
    settings: tuple[SettingInForce, ...]  # the rule's settings as the area has them


def rules_in_force(area: AreaSettings, default: AreaSettings) -> list[RuleInForce]:
    """Every rule with the settings it reads as they stand in this area."""
    by_key = {s.key: s for s in settings_in_force(area, default)}
    return [RuleInForce(r, tuple(by_key[k] for k in r.settings if k in by_key)) for r in CATALOGUE]


def describe_rules(area: AreaSettings, default: AreaSettings) -> list[str]:
    """The rules in words, each with the settings it reads as they stand in the area."""
    lines = []
    for found in rules_in_force(area, default):
        r = found.rule
        lines += [f"{r.name}: {r.title} (who acts: {r.who_acts})", f"  {r.description}"]
        shown = [f"{s.key} = {_short(s.value, area.name)}" for s in found.settings]
        lines.append("  settings: " + "; ".join(shown))
    return lines


def _short(value: str, area: str) -> str:
    # a long list (the bank holidays) is printed once, with the area's settings
    return value if len(value) <= 60 else f"(listed under [{area}])"
