"""What every rule shares: the Alert, its deterministic id, and the evaluation context."""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from hub.contract.vocabulary import EventType
from hub.domain.areas import AreaSettings
from hub.domain.events import HUB_NAMESPACE
from hub.domain.family import Entry, FamilyProjection, hearings_of, victims


@dataclass(frozen=True)
class Alert:
    alert_id: str  # uuid5(HUB_NAMESPACE, "alert", rule, condition key...)
    rule: str  # snake_case rule name
    family_id: str
    area: str
    victim_token: str  # the victim's primary token ("" when about a perpetrator only)
    person_ids: tuple[str, ...]  # sorted
    subject_tokens: tuple[str, ...]  # sorted tokens of the people concerned
    triggering_event_ids: tuple[str, ...]  # in (time, hub_id) order
    event_time: str  # iso time of the latest triggering event
    reason: str  # plain words with dates and agencies
    recommended_action: str
    lawful_basis: str | None  # of the latest triggering event
    due: str | None = None  # deadline where the rule has one


def alert_id(rule: str, *key: str) -> str:
    """Deterministic alert id: the same rule and condition key give the same id."""
    return str(uuid.uuid5(HUB_NAMESPACE, "\0".join(("alert", rule, *key))))


def is_da(e: Entry) -> bool:
    """A domestic-abuse event: a police incident, or a health attendance where abuse was
    disclosed. Referrals, assessments and markers are responses to abuse, not events of it."""
    return e.type == EventType.POLICE_INCIDENT or (
        e.type == EventType.HEALTH_ATTENDANCE and e.facts.get("da_disclosed") == "yes"
    )


class Series:
    """Entries in timeline order, indexed for window look-ups (bisection, not a scan)."""

    def __init__(self, entries: Iterable[Entry], ordinal: dict[str, int]) -> None:
        self.entries = sorted(entries, key=lambda e: e.key)
        self.keys = [e.key for e in self.entries]
        self.days = [ordinal[e.hub_id] for e in self.entries]  # non-decreasing with keys

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def upto(self, point: Entry) -> list[Entry]:
        """Entries at or before the point."""
        return self.entries[: bisect_right(self.keys, point.key)]

    def before(self, point: Entry) -> list[Entry]:
        """Entries strictly before the point."""
        return self.entries[: bisect_left(self.keys, point.key)]

    def since(self, point: Entry, first_day: int) -> list[Entry]:
        """Entries at or before the point whose local day ordinal is first_day or later."""
        hi = bisect_right(self.keys, point.key)
        return self.entries[bisect_left(self.days, first_day, 0, hi) : hi]


class Context:
    """One evaluation of one family in one area: indexes built once, shared by every rule."""

    def __init__(self, p: FamilyProjection, area: AreaSettings, clock: datetime | None) -> None:
        self.p, self.area, self.clock, self.cal = p, area, clock, area.calendar
        self.entries = [e for e in p.timeline if not e.internal]
        self.victims = victims(p)
        self._about: dict[str, list[Entry]] = defaultdict(list)
        self._token: dict[str, str] = {}
        for e in self.entries:
            for pid in e.about():
                self._about[pid].append(e)
            for s in e.subjects:
                self._token.setdefault(s.person_id, s.token)
        self._by_id = {e.hub_id: e for e in self.entries}
        self._ordinal = {e.hub_id: self.day(e.time).toordinal() for e in self.entries}
        self._hearings = {v: self.series(hearings_of(p, v)) for v in self.victims}

    def series(self, entries: Iterable[Entry]) -> Series:
        return Series(entries, self._ordinal)

    def about(self, person: str, *types: str) -> list[Entry]:
        """Agency events about the person, of these types, in timeline order."""
        return [e for e in self._about.get(person, ()) if e.type in types]

    def history(self, person: str) -> list[Entry]:
        """Every agency event about the person, in timeline order."""
        return list(self._about.get(person, ()))

    def cycle(self, victim: str, at: Entry) -> str:
        """The Marac cycle of an event: hub id of the victim's latest hearing at or before it."""
        hearings = self._hearings.get(victim)
        earlier = hearings.upto(at) if hearings else []
        return earlier[-1].hub_id if earlier else "none"

    def hearing(self, hub_id: str) -> Entry:
        return self.entry(hub_id)

    def entry(self, hub_id: str) -> Entry:
        """The agency event with this hub id."""
        return self._by_id[hub_id]

    def day(self, t: datetime) -> date:
        return self.cal.local_date(t)

    def within(self, earlier: Entry, later: Entry) -> bool:
        """earlier is no later than later and inside the window ending on later's local date
        (12 months: back to the same calendar date, both ends inclusive)."""
        first = self._first_day(later)
        return earlier.key <= later.key and self._ordinal[earlier.hub_id] >= first

    def window(self, series: Series, point: Entry) -> list[Entry]:
        """The entries of the series within the window ending at the point."""
        return series.since(point, self._first_day(point))

    def _first_day(self, point: Entry) -> int:
        """The ordinal of the first local date inside the window ending at the point."""
        day = date.fromordinal(self._ordinal[point.hub_id])
        return self.area.window_start(day).toordinal()

    @property
    def window_words(self) -> str:
        return self.area.window_words

    def token(self, person: str) -> str:
        """The person's primary token: the one of their earliest agency event."""
        return self._token.get(person, person)

    def cite(self, e: Entry) -> str:
        return f"{self.area.label(e.agency_id)} {self.day(e.time).isoformat()}"

    def cites(self, entries: Iterable[Entry]) -> str:
        return ", ".join(self.cite(e) for e in entries)

    def local(self, t: datetime) -> str:
        return t.astimezone(self.cal.zone).strftime("%Y-%m-%d %H:%M")

    def alert(
        self,
        rule: str,
        key: Sequence[str],
        victim: str | None,
        triggers: Iterable[Entry],
        reason: str,
        action: str,
        due: datetime | None = None,
    ) -> Alert:
        found = sorted(set(triggers), key=lambda e: e.key)
        people = {s.person_id for e in found for s in e.subjects}
        tokens = {s.token for e in found for s in e.subjects}
        if victim is not None:
            people.add(victim)
            tokens.add(self.token(victim))
        return Alert(
            alert_id=alert_id(rule, *key),
            rule=rule,
            family_id=self.p.family_id,
            area=self.area.name,
            victim_token="" if victim is None else self.token(victim),
            person_ids=tuple(sorted(people)),
            subject_tokens=tuple(sorted(tokens)),
            triggering_event_ids=tuple(e.hub_id for e in found),
            event_time=found[-1].time.isoformat(),
            reason=reason,
            recommended_action=action,
            lawful_basis=found[-1].lawful_basis,
            due=None if due is None else due.isoformat(),
        )


Point = tuple[Entry, list[Entry]]  # an evaluation point (the event) and what it found


def per_cycle(ctx: Context, victim: str, points: Iterable[Point]) -> dict[str, list[Point]]:
    """Evaluation points grouped by the Marac cycle of their event, in timeline order."""
    out: dict[str, list[Point]] = defaultdict(list)
    for point in sorted(points, key=lambda pt: pt[0].key):
        out[ctx.cycle(victim, point[0])].append(point)
    return dict(out)


def union(points: Iterable[Point]) -> list[Entry]:
    return sorted({e for _, found in points for e in found}, key=lambda e: e.key)
