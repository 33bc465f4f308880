"""The family's genogram, laid out server-side as SVG shapes (no external service).

A pure function of the family view's members and relations (as the reader may see them):
parents sit a row above their children, people named as children of a victim's household a
row below, everyone else on the victim's row, victims first, then perpetrators (current
before previous), then the rest. Each relation is a labelled line. The template draws it and
lists the same people and relations as text, so the picture is never the only way to read it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 170, 56, 40, 110, 30

RELATION_WORDS = {
    "partner": "partner",
    "ex_partner": "ex-partner",
    "parent_child": "parent of",
    "sibling": "sibling",
    "household": "same household",
    "carer": "carer of",
    "victim_perpetrator": "abuse",
}
ROLE_ORDER = ["victim", "perpetrator", "previous perpetrator", "child", "household member", "other"]


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    role: str  # in words: victim, perpetrator, previous perpetrator, child, ...
    x: int
    y: int

    @property
    def css(self) -> str:
        return self.role.split()[-1].replace(" ", "-")


@dataclass(frozen=True)
class Line:
    a: str
    b: str
    kind: str
    label: str
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def mid(self) -> tuple[int, int]:
        return (self.x1 + self.x2) // 2, (self.y1 + self.y2) // 2


@dataclass(frozen=True)
class Genogram:
    people: list[Person]
    lines: list[Line]
    width: int
    height: int


def _name(member: dict[str, Any], n: int) -> str:
    for found in member.get("names", {}).values():
        if found and found.get("name"):
            return str(found["name"])
    return f"Person {n} (name not held)"


def _role(roles: set[str], previous: bool) -> str:
    if "victim" in roles:
        return "victim"
    if "perpetrator" in roles:
        return "previous perpetrator" if previous else "perpetrator"
    if "child" in roles:
        return "child"
    if "household_member" in roles:
        return "household member"
    return "other"


PEERS = {"partner", "ex_partner", "victim_perpetrator", "sibling"}  # drawn on one row


def _generations(
    ids: list[str], roles: dict[str, str], rels: list[dict[str, Any]]
) -> dict[str, int]:
    gen = {p: (1 if roles[p] == "child" else 0) for p in ids}
    parents = [(r["a"], r["b"]) for r in rels if r["kind"] in ("parent_child", "carer")]
    peers = [(r["a"], r["b"]) for r in rels if r["kind"] in PEERS]
    # Rows only move down, so this settles; the bound guards against a cycle of parents.
    for _ in range(2 * len(ids) + 1):
        changed = False
        for a, b in parents:
            if a in gen and b in gen and gen[b] < gen[a] + 1:
                gen[b], changed = gen[a] + 1, True
        for a, b in peers:
            if a in gen and b in gen and gen[a] != gen[b]:
                gen[a] = gen[b] = max(gen[a], gen[b])
                changed = True
        if not changed:
            break
    low = min(gen.values(), default=0)
    return {p: g - low for p, g in gen.items()}


def layout(members: dict[str, dict[str, Any]], relations: list[dict[str, Any]]) -> Genogram:
    """Where each person and relation line goes."""
    ids = sorted(members)
    ex = {frozenset((r["a"], r["b"])) for r in relations if r["kind"] == "ex_partner"}
    victims = {p for p in ids if "victim" in members[p]["roles"]}
    roles = {
        p: _role(set(members[p]["roles"]), any(frozenset((p, v)) in ex for v in victims))
        for p in ids
    }
    gen = _generations(ids, roles, relations)
    rows: dict[int, list[str]] = defaultdict(list)
    for p in sorted(ids, key=lambda p: (ROLE_ORDER.index(roles[p]), p)):
        rows[gen[p]].append(p)
    widest = max((len(r) for r in rows.values()), default=1)
    width = 2 * MARGIN + widest * WIDTH + (widest - 1) * GAP_X
    people: dict[str, Person] = {}
    for g, row in rows.items():
        row_width = len(row) * WIDTH + (len(row) - 1) * GAP_X
        left = (width - row_width) // 2
        for i, p in enumerate(row):
            n = ids.index(p) + 1
            x, y = left + i * (WIDTH + GAP_X), MARGIN + g * (HEIGHT + GAP_Y)
            people[p] = Person(p, _name(members[p], n), roles[p], x, y)
    lines = []
    for r in relations:
        a, b = people.get(r["a"]), people.get(r["b"])
        if a is None or b is None:
            continue
        lines.append(Line(
            a.person_id, b.person_id, r["kind"], RELATION_WORDS.get(r["kind"], r["kind"]),
            a.x + WIDTH // 2, a.y + HEIGHT // 2, b.x + WIDTH // 2, b.y + HEIGHT // 2,
        ))  # fmt: skip
    height = 2 * MARGIN + (max(rows, default=0) + 1) * (HEIGHT + GAP_Y) - GAP_Y
    return Genogram(list(people.values()), lines, width, height)
