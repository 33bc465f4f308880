"""What the family page shows beyond the family view itself: risk history per victim with
downgrades, support cases as intake beside exit, and the timeline filter. Pure, over the view
the reader was already shown (the policy point screened it), so it discloses nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Number
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.family.cases import NOT_RECORDED, exit_words


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


def shown_facts(facts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The facts a timeline row lists: the single values (text, numbers, yes/no), in order."""
    return [(k, v) for k, v in facts.items() if isinstance(v, str | Number)]


@dataclass(frozen=True)
class SupportRow:
    measure: str
    intake: str
    exit: str


NOT_HELD = "Not held: the hub holds no referral for this case"


def _intake_rows(intake: dict[str, Any], days: Any) -> dict[str, str]:
    if not intake:
        return {}
    view = intake.get("victim_view")
    score = intake.get("dash_score")
    return {
        "feels_safer": f"Own view of the risk: {view}" if view and view != "not_known"
        else NOT_RECORDED,
        "wellbeing": "Not measured at intake",
        "children_exposure": "Children present at an incident"
        if intake.get("children_exposed") else "No children present at an incident held",
        "childrens_social_care": "Referred to children's services"
        if intake.get("childrens_services_referral") else "No referral held",
        "engagement": NOT_RECORDED if days is None else f"First contact after {days} days",
        "dash": NOT_RECORDED if score is None else f"Dash score {score} of 24",
    }  # fmt: skip


def support_rows(case: dict[str, Any]) -> list[SupportRow]:
    """One support case (hub/domain/family/cases.py) as rows of intake beside exit, in the
    words the hub shows (never blaming the victim)."""
    intake, exit_ = case.get("intake") or {}, case.get("exit") or {}
    told = _intake_rows(intake, case.get("days_to_first_contact"))
    at_intake = set(intake.get("abuse_types", ()))
    rows = [
        SupportRow(
            f"{kind.replace('_', ' ').capitalize()} abuse",
            ("Reported" if kind in at_intake else "Not reported") if told else NOT_HELD,
            exit_words("abuse", exit_.get("abuse", {}).get(kind)),
        )
        for kind in sorted(at_intake | set(exit_.get("abuse", {})))
    ]
    rows.append(SupportRow("Risk", told.get("dash", NOT_HELD), "Not measured at exit"))
    for measure, title in (
        ("feels_safer", "Feeling safe"), ("wellbeing", "Wellbeing"),
        ("children_exposure", "Children's exposure to abuse"),
        ("childrens_social_care", "Children's social care"), ("engagement", "Engagement"),
    ):  # fmt: skip
        rows.append(
            SupportRow(title, told.get(measure, NOT_HELD), exit_words(measure, exit_.get(measure)))
        )
    return rows
