"""The weekly central list of a Marac area: its most vulnerable victims and most dangerous
perpetrators, as of the end of an ISO week. The ranking is in the package docstring and
docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.areas import AreaBook, AreaSettings, victim_area
from hub.domain.family import Entry, FamilyProjection, markers, victims
from hub.domain.reports.common import ReportError, agency_entries, primary_tokens
from hub.domain.rules.base import is_da


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday) in an area's local time."""

    monday: date

    @classmethod
    def parse(cls, text: str) -> Week:
        """'2026-W10' (ISO week) or a date '2026-03-04' (the week holding it)."""
        try:
            if "W" in text.upper():
                year, week = text.upper().split("-W")
                return cls(date.fromisocalendar(int(year), int(week), 1))
            day = date.fromisoformat(text)
        except ValueError:
            raise ReportError(
                f"{text!r} is not a week; write an ISO week (2026-W10) or a date (2026-03-04)"
            ) from None
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def of(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @property
    def name(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def bounds(self, area: AreaSettings) -> tuple[datetime, datetime]:
        """[start, end) of the week as UTC instants, in the area's time zone."""
        cal = area.calendar
        return cal.at_local(self.monday, time(0)), cal.at_local(self.sunday + timedelta(1), time(0))


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.name, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Ranked:
    person_id: str
    family_id: str
    token: str
    factors: tuple[Factor, ...]
    latest: datetime | None  # latest domestic-abuse event about or by the person
    new_this_week: bool  # a domestic-abuse event in the week itself
    rank: int = 0

    @property
    def points(self) -> int:
        return sum(f.points for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "person_id": self.person_id,
            "family_id": self.family_id,
            "token": self.token,
            "points": self.points,
            "factors": [f.to_dict() for f in self.factors],
            "latest_abuse_event": None if self.latest is None else self.latest.isoformat(),
            "new_this_week": self.new_this_week,
        }


@dataclass(frozen=True)
class CentralList:
    area: str
    week: str
    start: datetime
    end: datetime
    window: str  # the area's window in words: "12 months", or "90 days" where an area sets days
    victims: tuple[Ranked, ...]
    perpetrators: tuple[Ranked, ...]
    families: int = field(default=0)  # families of the area considered

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "window": self.window,
            "families": self.families,
            "victims": [r.to_dict() for r in self.victims],
            "perpetrators": [r.to_dict() for r in self.perpetrators],
        }


@dataclass(frozen=True)
class _Scope:
    """One family as of the week's end, with the window the factors count in."""

    p: FamilyProjection
    area: AreaSettings
    start: datetime  # of the week
    end: datetime  # of the week (exclusive)
    entries: list[Entry]

    def in_window(self, e: Entry) -> bool:
        last_day = self.area.calendar.local_date(self.end - timedelta(microseconds=1))
        return self.area.in_window(self.area.calendar.local_date(e.time), last_day)

    def day(self, e: Entry) -> str:
        return self.area.calendar.local_date(e.time).isoformat()

    def cite(self, es: Iterable[Entry]) -> str:
        return ", ".join(f"{self.area.label(e.agency_id)} {self.day(e)}" for e in es)


def upto(p: FamilyProjection, end: datetime) -> FamilyProjection:
    """The projection as it stood before end (event time)."""
    return replace(p, timeline=tuple(e for e in p.timeline if e.time < end))


def central_list(
    projections: Iterable[FamilyProjection],
    book: AreaBook,
    area: str,
    week: Week,
    top: int = 10,
) -> CentralList:
    """The area's most vulnerable victims and most dangerous perpetrators for the week (see
    the module docstring for the ranking)."""
    if top < 1:
        raise ReportError("top must be 1 or more")
    settings = book.get(area)
    start, end = week.bounds(settings)
    vs: list[Ranked] = []
    ps: list[Ranked] = []
    families = 0
    cases_of: dict[str, list[FamilyProjection]] = {}  # perpetrator → the cases naming him
    for p in projections:
        then = upto(p, end)
        if not then.timeline or victim_area(then, book).name != settings.name:
            continue
        families += 1
        entries = agency_entries(then)
        scope = _Scope(then, settings, start, end, entries)
        vs += [r for v in victims(then) if (r := _victim(scope, v)) is not None]
        for q in {q for e in entries for q in e.persons("perpetrator")}:
            cases_of.setdefault(q, []).append(then)
    for q, cases in sorted(cases_of.items()):
        # a perpetrator is in the case of each victim he is named against: he is ranked on
        # all of them together, as one family held them before cases were split
        joined = _joined(cases)
        scope = _Scope(joined, settings, start, end, agency_entries(joined))
        if (r := _perpetrator(scope, q)) is not None:
            ps.append(r)
    return CentralList(
        settings.name, week.name, start, end, settings.window_words,
        _ranked(vs, top), _ranked(ps, top), families,
    )  # fmt: skip


def _joined(cases: list[FamilyProjection]) -> FamilyProjection:
    """The cases' timelines as one (each event once), under the least case id (so the
    order families are read in changes nothing)."""
    unique = {e.hub_id: e for p in cases for e in p.timeline}
    timeline = tuple(sorted(unique.values(), key=lambda e: e.key))
    first = min(cases, key=lambda p: p.family_id)
    return FamilyProjection(first.family_id, timeline, first.clock)


def _ranked(rows: list[Ranked], top: int) -> tuple[Ranked, ...]:
    """The top rows, one per person (a person read in two families, as while a merge is
    being projected, keeps their higher row)."""

    def key(r: Ranked) -> tuple[int, float, str, str]:
        latest = r.latest.timestamp() if r.latest else 0.0
        return (-r.points, -latest, r.person_id, r.family_id)

    best: dict[str, Ranked] = {}
    for r in sorted((r for r in rows if r.points > 0), key=key):
        best.setdefault(r.person_id, r)
    chosen = sorted(best.values(), key=key)[:top]
    return tuple(replace(r, rank=n) for n, r in enumerate(chosen, 1))


def _latest_dash(s: _Scope, victim: str) -> Entry | None:
    dashes = [e for e in s.entries if e.type == EventType.RISK_DASH and e.is_about(victim)]
    return dashes[-1] if dashes and s.in_window(dashes[-1]) else None


def _victim(s: _Scope, v: str) -> Ranked | None:
    about = [e for e in s.entries if e.is_about(v) and s.in_window(e)]
    abuse = [e for e in about if is_da(e)]
    dash = _latest_dash(s, v)
    if not abuse and dash is None:
        return None
    f: list[Factor] = []
    if dash is not None:
        score = int(dash.facts.get("score") or 0)
        f.append(Factor("dash", score, f"Dash {score} ({s.cite([dash])})"))
        if score >= s.area.dash_high_risk:
            f.append(Factor("high_risk", 10, f"Dash {score} >= {s.area.dash_high_risk}"))
    judged = [
        e
        for e in about
        if (e.type == EventType.REFERRAL_MADE and e.facts.get("professional_judgement"))
        or (e is dash and e.facts.get("professional_judgement"))
    ]
    if judged:
        f.append(Factor("professional_judgement", 10, f"raised: {s.cite(judged[-1:])}"))
    if abuse:
        f.append(Factor("abuse_events", 3 * min(len(abuse), 5),
                        f"{len(abuse)} domestic-abuse events: {s.cite(abuse)}"))  # fmt: skip
    f += _weapon(s, [e for e in abuse if e.type == EventType.POLICE_INCIDENT], ())
    hurt = [e for e in abuse if e.facts.get("injuries") or e.facts.get("injury")]
    if hurt:
        f.append(Factor("injury", 3, f"injury recorded: {s.cite(hurt)}"))
    kids = [e for e in abuse if e.facts.get("children_present") or e.persons("child")]
    if kids:
        f.append(Factor("children", 5, f"children present or named: {s.cite(kids)}"))
    repeat = _repeat(s, v, abuse)
    if repeat:
        f.append(Factor("repeat_marac", 8, repeat))
    return _row(s, v, f, abuse)


def _repeat(s: _Scope, v: str, abuse: list[Entry]) -> str | None:
    heard = [e for e in s.entries if e.type == EventType.MARAC_CASE_HEARD and e.names(v, "victim")]
    marked = [h for h in heard if h.facts.get("repeat") and s.in_window(h)]
    if marked:
        return f"heard at Marac as a repeat case on {marked[-1].facts.get('meeting_date')}"
    for h in reversed(heard):
        after = [e for e in abuse if e.key > h.key]
        day = s.area.calendar.local_date
        gap = [e for e in after if s.area.in_window(day(h.time), day(e.time))]
        if gap:
            return (
                f"abuse reported since the hearing of {h.facts.get('meeting_date')}: {s.cite(gap)}"
            )
    return None


def _weapon(s: _Scope, incidents: list[Entry], flagged: Iterable[str]) -> list[Factor]:
    firearm = [e for e in incidents if e.facts.get("weapon") == "firearm"]
    weapon = [e for e in incidents if e.facts.get("weapon") == "weapon"]
    if firearm:
        return [Factor("firearm", 10, f"firearm involved: {s.cite(firearm)}")]
    marker = list(flagged)
    if marker:
        return [Factor("firearm", 10, f"firearm marker present ({', '.join(marker)})")]
    if weapon:
        return [Factor("weapon", 5, f"weapon involved: {s.cite(weapon)}")]
    return []


def _perpetrator(s: _Scope, q: str) -> Ranked | None:
    named = [e for e in s.entries if e.names(q, "perpetrator")]
    abuse = [e for e in named if is_da(e) and s.in_window(e)]
    if not abuse:
        return None
    linked = sorted({v for e in named for v in e.persons("victim")} - {q})
    f: list[Factor] = []
    if len(linked) > 1:
        f.append(Factor("linked_victims", 10 * (len(linked) - 1),
                        f"{len(linked)} different victims"))  # fmt: skip
    incidents = [e for e in abuse if e.type == EventType.POLICE_INCIDENT]
    if incidents:
        f.append(Factor("incidents", 3 * min(len(incidents), 5),
                        f"{len(incidents)} incidents: {s.cite(incidents)}"))  # fmt: skip
    flags = [
        m["agency_id"] for m in markers(s.p).get(q, []) if m["marker"] == "firearm" and m["present"]
    ]
    f += _weapon(s, incidents, flags)
    breaches = [e for e in incidents if e.facts.get("breach_of_order")]
    if breaches:
        f.append(Factor("breaches", 5 * min(len(breaches), 3),
                        f"{len(breaches)} breaches of an order: {s.cite(breaches)}"))  # fmt: skip
    high = [
        v
        for v in linked
        if (d := _latest_dash(s, v)) is not None
        and int(d.facts.get("score") or 0) >= s.area.dash_high_risk
    ]
    if high:
        f.append(Factor("victim_high_risk", 5, f"{len(high)} linked victim(s) at high risk"))
    kids = [e for e in incidents if e.facts.get("children_present") or e.persons("child")]
    if kids:
        f.append(Factor("children", 3, f"children present: {s.cite(kids)}"))
    return _row(s, q, f, abuse)


def _row(s: _Scope, person: str, factors: list[Factor], abuse: list[Entry]) -> Ranked:
    token = primary_tokens(s.p).get(person, person)
    latest = abuse[-1].time if abuse else None
    fresh = any(s.start <= e.time < s.end for e in abuse)
    return Ranked(person, s.p.family_id, token, tuple(factors), latest, fresh)
