"""The outcomes report of a Marac area over a period (issue 15, section 3; DOMAIN.md's
Outcomes (Insights) paragraph). Pure: the projections, the area's settings and the period are
passed in. Figures only, never people: the page and its CSV show numbers.

The period is two local dates of the area, both inclusive (default: the area's window, 12
months back to the same calendar date, ending today). Each measure counts what *happened* in
the period, judged on the area's local dates:

- **First contact**: support cases (hub/domain/family/cases.py) opened by a referral in the
  period; how many were contacted, how many within the area's first-contact working days, and
  the median and mean calendar days from referral to first contact.
- **Length of support**: support cases ended (exit or onward referral) in the period; median
  and mean days from the referral. Closures whose start the hub does not hold are counted
  apart, never guessed.
- **Repeat referrals to Marac**: Marac referrals in the period, as the repeat rule counts them
  (each referral to Marac, and a hearing the hub holds no referral for); a repeat is one within
  the area's window (12 months: a calendar year back, 29 February included, both ends
  inclusive) of the victim's previous one.
- **Heard with an action plan**: hearings whose meeting date is in the period, and those that
  agreed at least one action.
- **Actions done on time**: Marac actions due in the period: done by the end of the due date
  (the owning agency's latest "done"), done late, not possible, not done yet.
- **Outcomes at exit**: support cases ended in the period: the closure reasons and each exit
  answer (per abuse type present at intake or answered, feeling safer, wellbeing, children's
  exposure and social care, engagement); "not recorded" where the service sent none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from statistics import mean, median
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.areas import AreaSettings
from hub.domain.calendar import add_working_days
from hub.domain.family import FamilyProjection, tracked_actions, victims
from hub.domain.family.actions import DONE, NOT_POSSIBLE, TrackedAction
from hub.domain.family.cases import (
    CHANGE_WORDS,
    EXIT_WORDS,
    NOT_RECORDED,
    REASON_WORDS,
    SupportCase,
    support_cases,
)
from hub.domain.reports.common import ReportError
from hub.domain.rules.base import Context
from hub.domain.rules.marac import marac_referral_points

LONGEST_PERIOD_DAYS = 3660  # ten years: beyond that a date was surely mistyped
EXIT_MEASURES = (
    "feels_safer",
    "wellbeing",
    "children_exposure",
    "childrens_social_care",
    "engagement",
)


@dataclass(frozen=True)
class Period:
    """Two local dates of the area, both inclusive."""

    start: date
    end: date

    @classmethod
    def parse(
        cls, start: date | str | None, end: date | str | None, area: AreaSettings, today: date
    ) -> Period:
        """From dates (or ISO text); without an end, today; without a start, the area's window
        back from the end."""
        last = _date(end, "end") if end else today
        first = _date(start, "start") if start else area.window_start(last)
        if first > last:
            raise ReportError(f"the period starts ({first}) after it ends ({last}): swap them")
        if (last - first).days > LONGEST_PERIOD_DAYS:
            raise ReportError("ask for a period of ten years or less")
        return cls(first, last)

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def _date(text: date | str, name: str) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"the {name} date {text!r} is not a date like 2026-03-31") from None


def _days(values: list[int]) -> dict[str, Any]:
    return {
        "median_days": None if not values else median(values),
        "mean_days": None if not values else round(mean(values), 1),
    }


@dataclass(frozen=True)
class OutcomesReport:
    area: str
    period: Period
    figures: dict[str, Any]
    families: tuple[str, ...]  # families whose events were counted

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "families_counted": len(self.families),
            **self.figures,
        }


def _first_contact(cases: list[SupportCase], area: AreaSettings, period: Period) -> dict[str, Any]:
    cal, n = area.calendar, area.first_contact_working_days
    opened = [c for c in cases if c.opened and period.holds(cal.local_date(c.opened.time))]
    contacted = [c for c in opened if c.first_contact is not None]
    in_time = [
        c
        for c in contacted
        if c.opened
        and c.first_contact
        and c.first_contact.time <= add_working_days(c.opened.time, n, cal)
    ]
    return {
        "referrals": len(opened),
        "contacted": len(contacted),
        "within_working_days": len(in_time),
        "working_days": n,
        **_days([d for c in contacted if (d := c.days_to_first_contact(cal)) is not None]),
    }


def _ended(cases: list[SupportCase], area: AreaSettings, period: Period) -> list[SupportCase]:
    return [c for c in cases if c.closed and period.holds(area.calendar.local_date(c.closed.time))]


def _support(ended: list[SupportCase], area: AreaSettings) -> dict[str, Any]:
    lengths = [d for c in ended if (d := c.days_of_support(area.calendar)) is not None]
    return {"ended": len(ended), "start_held": len(lengths), **_days(lengths)}


def _repeats(
    families: list[FamilyProjection], area: AreaSettings, period: Period
) -> dict[str, Any]:
    referrals = repeats = 0
    cal = area.calendar
    for p in families:
        ctx = Context(p, area, None)
        for v in victims(p):
            points = [cal.local_date(e.time) for e in marac_referral_points(ctx, v)]
            for i, day in enumerate(points):
                if period.holds(day):
                    referrals += 1
                    repeats += i > 0 and area.in_window(points[i - 1], day)
    return {"referrals": referrals, "repeats": repeats, "window": area.window_words}


def _hearings(families: list[FamilyProjection], period: Period) -> dict[str, Any]:
    heard = [
        e
        for p in families
        for e in p.timeline
        if e.type == EventType.MARAC_CASE_HEARD
        and period.holds(_iso_date(e.facts.get("meeting_date")))
    ]
    return {
        "heard": len(heard),
        "with_action_plan": sum(1 for e in heard if e.facts.get("actions")),
    }


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _done_on(a: TrackedAction, area: AreaSettings) -> date | None:
    """The local date the owning agency said it was done (the latest such update)."""
    done = [h for h in a.history if h.get("state") == DONE]
    return area.calendar.local_date(datetime.fromisoformat(done[-1]["at"])) if done else None


def _actions(
    families: list[FamilyProjection], area: AreaSettings, period: Period
) -> dict[str, Any]:
    due = [a for p in families for a in tracked_actions(p) if period.holds(_iso_date(a.due_date))]
    states: Counter[str] = Counter()
    for a in due:
        if a.state == DONE:
            done_on, by = _done_on(a, area), _iso_date(a.due_date)
            states["done_on_time" if done_on and by and done_on <= by else "done_late"] += 1
        else:
            states["not_possible" if a.state == NOT_POSSIBLE else "not_done"] += 1
    keys = ("done_on_time", "done_late", "not_possible", "not_done")
    return {"due": len(due), **{k: states[k] for k in keys}}


def _exit(ended: list[SupportCase]) -> dict[str, Any]:
    closing = [c for c in ended if c.closed]
    reasons = Counter(c.reason or "not_recorded" for c in closing)
    abuse: dict[str, Counter[str]] = {}
    for c in closing:  # each abuse type present at intake or answered at exit
        answered = c.exit.get("abuse", {})
        for kind in {*c.intake.get("abuse_types", ()), *answered}:
            abuse.setdefault(kind, Counter())[str(answered.get(kind, "not_recorded"))] += 1
    answers = {
        m: dict(sorted(Counter(str(c.exit.get(m) or "not_recorded") for c in closing).items()))
        for m in EXIT_MEASURES
    }
    return {
        "closures": len(closing),
        "reasons": dict(sorted(reasons.items())),
        "abuse": {k: dict(sorted(v.items())) for k, v in sorted(abuse.items())},
        **answers,
    }


def outcomes_report(
    projections: Iterable[FamilyProjection], area: AreaSettings, period: Period
) -> OutcomesReport:
    """The area's outcomes over the period, from the families given (the caller picks the
    area's families and screens them)."""
    families = [p for p in projections if p.timeline]
    cases = [c for p in families for c in support_cases(p)]
    ended = _ended(cases, area, period)
    figures = {
        "first_contact": _first_contact(cases, area, period),
        "support": _support(ended, area),
        "marac_repeats": _repeats(families, area, period),
        "hearings": _hearings(families, period),
        "actions": _actions(families, area, period),
        "exit": _exit(ended),
    }
    return OutcomesReport(area.name, period, figures, tuple(sorted(p.family_id for p in families)))


# --- the figures as lines: one table for the page, its CSV and the command line ------------


@dataclass(frozen=True)
class Line:
    section: str
    measure: str
    number: str
    out_of: str = ""

    @property
    def share(self) -> str:
        if not self.out_of or self.out_of == "0":
            return ""
        return f"{round(100 * float(self.number) / float(self.out_of))}%"

    def cells(self) -> tuple[str, ...]:
        return (self.section, self.measure, self.number, self.out_of, self.share)


HEADER = ("Section", "Measure", "Number", "Out of", "Share")


def _n(value: Any) -> str:
    if value is None:
        return "None counted"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def lines(report: dict[str, Any]) -> list[Line]:
    """The report (to_dict's shape) in words, each figure with what it is out of."""
    fc, sp, mr = report["first_contact"], report["support"], report["marac_repeats"]
    hr, ac, ex = report["hearings"], report["actions"], report["exit"]
    first, support = "Days from referral to first contact", "Length of support"
    out = [
        Line(first, "Referrals into Idva services", _n(fc["referrals"])),
        Line(first, "First contact made", _n(fc["contacted"]), _n(fc["referrals"])),
        Line(
            first,
            f"Contact made within {fc['working_days']} working days",
            _n(fc["within_working_days"]),
            _n(fc["referrals"]),
        ),
        Line(first, "Median days to first contact", _n(fc["median_days"])),
        Line(first, "Mean days to first contact", _n(fc["mean_days"])),
        Line(support, "Support cases ended", _n(sp["ended"])),
        Line(support, "Of which the hub holds the referral", _n(sp["start_held"]), _n(sp["ended"])),
        Line(support, "Median days of support", _n(sp["median_days"])),
        Line(support, "Mean days of support", _n(sp["mean_days"])),
        Line("Repeat referrals to Marac", "Referrals to Marac", _n(mr["referrals"])),
        Line(
            "Repeat referrals to Marac",
            f"Repeat: within {mr['window']} of the previous one",
            _n(mr["repeats"]),
            _n(mr["referrals"]),
        ),
        Line("Marac hearings", "Cases heard", _n(hr["heard"])),
        Line(
            "Marac hearings",
            "Heard with an action plan",
            _n(hr["with_action_plan"]),
            _n(hr["heard"]),
        ),
        Line("Marac actions", "Actions due", _n(ac["due"])),
    ]
    for key, words in (
        ("done_on_time", "Done on time"),
        ("done_late", "Done late"),
        ("not_possible", "Not possible"),
        ("not_done", "Not done yet"),
    ):
        out.append(Line("Marac actions", words, _n(ac[key]), _n(ac["due"])))
    total = _n(ex["closures"])
    at_exit = "Outcomes at exit"
    out.append(Line(at_exit, "Support cases ended", total))
    for reason, n in ex["reasons"].items():
        out.append(Line(at_exit, f"Reason: {REASON_WORDS.get(reason, NOT_RECORDED)}", _n(n), total))
    for kind, changes in ex["abuse"].items():
        of = _n(sum(changes.values()))  # the cases where this abuse was present or answered
        for change, n in changes.items():
            words = CHANGE_WORDS.get(change, NOT_RECORDED)
            out.append(
                Line(at_exit, f"{kind.replace('_', ' ').capitalize()} abuse: {words}", _n(n), of)
            )
    titles = {
        "feels_safer": "Feeling safer",
        "wellbeing": "Wellbeing",
        "children_exposure": "Children's exposure to abuse",
        "childrens_social_care": "Children's social care",
        "engagement": "Engagement",
    }
    for m in EXIT_MEASURES:
        for answer, n in ex[m].items():
            words = EXIT_WORDS[m].get(answer, NOT_RECORDED)
            out.append(Line(at_exit, f"{titles[m]}: {words}", _n(n), total))
    return out
