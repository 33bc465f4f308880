"""The repeat report: victims by number of linked perpetrators, perpetrators by number of
linked victims, across families.

A victim and a perpetrator are linked when one agency event names both (the same link the
serial-perpetrator rule counts). Links are gathered across every family by person id, so a
person is counted once however their families were drawn. ``min_links`` (default 2) sets who is
listed; the counts of everyone are given as a distribution.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain.family import Entry, FamilyProjection
from hub.domain.reports.common import ReportError, agency_entries, primary_tokens


@dataclass(frozen=True)
class Link:
    person_id: str
    family_id: str
    first: datetime
    last: datetime
    events: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "family_id": self.family_id,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "events": self.events,
        }


@dataclass(frozen=True)
class RepeatRow:
    person_id: str
    family_id: str
    token: str
    linked: tuple[Link, ...]  # most events first

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "family_id": self.family_id,
            "token": self.token,
            "count": len(self.linked),
            "linked": [x.to_dict() for x in self.linked],
        }


@dataclass(frozen=True)
class RepeatReport:
    min_links: int
    as_of: datetime | None
    victims: tuple[RepeatRow, ...]  # by linked perpetrators, most first
    perpetrators: tuple[RepeatRow, ...]  # by linked victims, most first
    victims_by_count: dict[int, int]  # number of linked perpetrators → victims with it
    perpetrators_by_count: dict[int, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_links": self.min_links,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "victims": [r.to_dict() for r in self.victims],
            "perpetrators": [r.to_dict() for r in self.perpetrators],
            "victims_by_count": {str(k): v for k, v in sorted(self.victims_by_count.items())},
            "perpetrators_by_count": {
                str(k): v for k, v in sorted(self.perpetrators_by_count.items())
            },
        }


def victim_perpetrator_links(
    p: FamilyProjection, end: datetime | None = None
) -> dict[tuple[str, str], list[Entry]]:
    """(victim, perpetrator) → the agency events naming both, before end."""
    out: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in agency_entries(p, end):
        for v in e.persons("victim"):
            for q in e.persons("perpetrator"):
                if q != v:
                    out[(v, q)].append(e)
    return out


def repeat_report(
    projections: Iterable[FamilyProjection], min_links: int = 2, as_of: datetime | None = None
) -> RepeatReport:
    """Victims by number of linked perpetrators and perpetrators by number of linked victims,
    across every family, counting events before as_of (all when None)."""
    if min_links < 1:
        raise ReportError("min_links must be 1 or more")
    pairs: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    home: dict[str, str] = {}  # person → family id
    tokens: dict[str, str] = {}
    for p in projections:
        for pair, entries in victim_perpetrator_links(p, as_of).items():
            pairs[pair] += entries
            for person in pair:
                home.setdefault(person, p.family_id)
        for person, token in primary_tokens(p).items():
            tokens.setdefault(person, token)
    by_victim: dict[str, list[Link]] = defaultdict(list)
    by_perp: dict[str, list[Link]] = defaultdict(list)
    for (v, q), entries in sorted(pairs.items()):
        unique = sorted({e.hub_id: e for e in entries}.values(), key=lambda e: e.key)
        first, last, n = unique[0].time, unique[-1].time, len(unique)
        by_victim[v].append(Link(q, home[q], first, last, n))
        by_perp[q].append(Link(v, home[v], first, last, n))

    def rows(links: dict[str, list[Link]]) -> tuple[RepeatRow, ...]:
        chosen = [
            RepeatRow(pid, home[pid], tokens.get(pid, pid), _busiest(ls))
            for pid, ls in links.items()
            if len(ls) >= min_links
        ]
        return tuple(sorted(chosen, key=lambda r: (-len(r.linked), -_latest(r), r.person_id)))

    def histogram(links: dict[str, list[Link]]) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for ls in links.values():
            out[len(ls)] += 1
        return dict(out)

    return RepeatReport(
        min_links, as_of, rows(by_victim), rows(by_perp), histogram(by_victim), histogram(by_perp)
    )


def _busiest(links: list[Link]) -> tuple[Link, ...]:
    return tuple(sorted(links, key=lambda x: (-x.events, x.person_id)))


def _latest(row: RepeatRow) -> float:
    return max(x.last for x in row.linked).timestamp()
