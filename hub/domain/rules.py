"""Rules: pure functions of (projection, new event, settings) that raise alerts.

Rules use event time only, never the wall clock, so a replay raises the same alerts, and
alert ids are derived from what triggered them, so reprocessing never duplicates one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hub.domain.events import HUB_NAMESPACE, CanonicalEvent
from hub.domain.projection import VictimProjection


@dataclass(frozen=True)
class RuleSettings:
    dash_high_risk: int = 14


@dataclass(frozen=True)
class Alert:
    alert_id: str
    rule: str
    victim_token: str
    subject_tokens: tuple[str, ...]
    triggering_event_ids: tuple[str, ...]
    event_time: str
    reason: str
    recommended_action: str
    lawful_basis: str | None


def alert_id(rule: str, victim_token: str, *triggers: str) -> str:
    """Deterministic alert id: the same rule, victim and triggering events give the same id."""
    return str(uuid.uuid5(HUB_NAMESPACE, "\0".join(("alert", rule, victim_token, *triggers))))


def visible_high_risk(
    p: VictimProjection, e: CanonicalEvent, settings: RuleSettings
) -> list[Alert]:
    """Dash score at or above the threshold (default 14 of 24 'yes') → refer to Marac."""
    if e.type != "risk.dash":
        return []
    score = int(e.data["score"])
    if score < settings.dash_high_risk:
        return []
    rule = "visible_high_risk"
    return [
        Alert(
            alert_id=alert_id(rule, e.victim_token, e.hub_id),
            rule=rule,
            victim_token=e.victim_token,
            subject_tokens=tuple(sorted({s.token for s in e.subjects})),
            triggering_event_ids=(e.hub_id,),
            event_time=e.time.isoformat(),
            reason=(
                f"Dash risk assessment on {e.time.date().isoformat()} scored {score} of 24 "
                f"(threshold {settings.dash_high_risk})"
            ),
            recommended_action="Visible high risk: refer to Marac",
            lawful_basis=e.lawful_basis,
        )
    ]


RULES = (visible_high_risk,)


def evaluate(p: VictimProjection, e: CanonicalEvent, settings: RuleSettings) -> list[Alert]:
    """Run every rule against the projection after the event was applied."""
    return [alert for rule in RULES for alert in rule(p, e, settings)]
