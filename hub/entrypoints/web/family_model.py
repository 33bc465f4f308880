"""What the family page shows beyond the family view itself: risk history per victim with
downgrades, and the timeline filter. Pure, over the view the reader was already shown (the
policy point screened it), so it discloses nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.contract.vocabulary import EventType


@dataclass(frozen=True)
class Assessment:
    time: str
    agency_id: str
    score: Any
    professional_judgement: bool


@dataclass(frozen=True)
class RiskHistory:
    person_id: str
    assessments: list[Assessment]  # oldest first

    @property
    def downgrade(self) -> tuple[Assessment, Assessment] | None:
        """(highest earlier, latest) when the latest Dash scores lower than an earlier one."""
        scored = [a for a in self.assessments if isinstance(a.score, int | float)]
        if len(scored) < 2:
            return None
        latest, earlier = scored[-1], max(scored[:-1], key=lambda a: a.score)
        return (earlier, latest) if latest.score < earlier.score else None


def risk_histories(timeline: list[dict[str, Any]]) -> list[RiskHistory]:
    per: dict[str, list[Assessment]] = {}
    for e in timeline:
        if e["type"] != EventType.RISK_DASH:
            continue
        facts = e.get("facts", {})
        for s in e.get("subjects", []):
            if s["role"] == "victim":
                per.setdefault(s["person_id"], []).append(Assessment(
                    e["time"], e["agency_id"], facts.get("score"),
                    bool(facts.get("professional_judgement")),
                ))  # fmt: skip
    return [RiskHistory(p, sorted(a, key=lambda x: x.time)) for p, a in sorted(per.items())]


def filter_timeline(
    timeline: list[dict[str, Any]], agency: str | None, type_: str | None
) -> list[dict[str, Any]]:
    """Newest first, narrowed to one agency and/or event type."""
    kept = [
        e for e in timeline
        if (not agency or e["agency_id"] == agency) and (not type_ or e["type"] == type_)
    ]  # fmt: skip
    return sorted(kept, key=lambda e: e["time"], reverse=True)
