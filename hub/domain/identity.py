"""Who is who, and who belongs with whom: pure functions over subject tokens and edges.

A person is a connected group of tokens joined by same-person edges (several strong
identifiers named for one subject; a confirmed possible match).

A family is the victim's case: the victim, their children and household, and their
perpetrators (DOMAIN.md). Cases are the connected groups of persons joined by relations
(partner, ex-partner, parent-child, sibling, household, carer), leaving out every person named
as a perpetrator and never as a victim ("perpetrator only"): he joins nobody, so two victims of
one perpetrator are two cases linked through him, not one family. He is *attached* to the case
of every victim he is named against (``perpetrator_of`` edges, perpetrator first) and belongs
to each; his home family (the one ``family_of`` gives) is the earliest of them. A person named
both ways (counter-allegations) is an ordinary member: his relations join.

Ids derive from the group's earliest-seen token, so they are stable: when two groups join,
the older id survives, and undoing the join gives the old ids back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.contract.vocabulary import EventType
from hub.domain.events import CanonicalEvent

SAME_PERSON = ("same_person", "confirmed_match")
# Oriented: a is the perpetrator's token, b the victim's. Joins nothing when he is only ever
# named as a perpetrator (he is attached to her case instead).
PERPETRATOR_OF = "perpetrator_of"
RELATIONS = (
    "partner",
    "ex_partner",
    "parent_child",
    "sibling",
    "household",
    "carer",
    PERPETRATOR_OF,
    # stored before cases were split (unoriented, joins like any relation); `hub replay`
    # relinks every event into perpetrator_of edges
    "victim_perpetrator",
)
# Roles named beside a victim who live with or around them.
HOUSEHOLD_ROLES = ("child", "household_member")


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    kind: str
    source: str  # hub id of the event (or match id) that made it

    @classmethod
    def between(cls, x: str, y: str, kind: str, source: str) -> Edge:
        a, b = sorted((x, y))
        return cls(a, b, kind, source)

    @classmethod
    def perpetrator_of(cls, perpetrator: str, victim: str, source: str) -> Edge:
        return cls(perpetrator, victim, PERPETRATOR_OF, source)


def person_id(label_token: str) -> str:
    return "p_" + label_token.removeprefix("st_")


def family_id(label_token: str) -> str:
    return "f_" + label_token.removeprefix("st_")


def token_of_family(fid: str) -> str:
    """The token a family id was labelled after (old ids resolve through it)."""
    return "st_" + fid.removeprefix("f_")


def edges_of(e: CanonicalEvent) -> list[Edge]:
    """The edges an event states: identifiers of one subject, and relations between people."""
    out = [
        Edge.between(s.token, other, "same_person", e.hub_id)
        for s in e.subjects
        for other in s.all_tokens[1:]
    ]
    if e.type == EventType.RELATIONSHIP_DECLARED and len(e.subjects) == 2:
        relation = str(e.data.get("relation", "household"))
        out.append(Edge.between(e.subjects[0].token, e.subjects[1].token, relation, e.hub_id))
        return out
    victim = next((s for s in e.subjects if s.role == "victim"), None)
    if victim is None:
        return out
    for s in e.subjects:
        if s.token == victim.token:
            continue
        if s.role == "perpetrator":
            out.append(Edge.perpetrator_of(s.token, victim.token, e.hub_id))
        elif s.role in HOUSEHOLD_ROLES:
            out.append(Edge.between(victim.token, s.token, "household", e.hub_id))
    return out


def components(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Connected components (union-find with path halving)."""
    parent: dict[str, str] = {n: n for n in nodes}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, set[str]] = {}
    for n in list(parent):
        groups.setdefault(find(n), set()).add(n)
    return list(groups.values())


def earliest(group: Iterable[str], first_seq: Mapping[str, int]) -> str:
    return min(group, key=lambda t: (first_seq[t], t))


@dataclass(frozen=True)
class Grouping:
    person_of: dict[str, str]  # token → person id
    family_of: dict[str, str]  # token → family id (a perpetrator's: his home case)
    cases_of: dict[str, tuple[str, ...]]  # perpetrator-only token → every case he is in

    def cases(self, token: str) -> tuple[str, ...]:
        """Every family (case) the token belongs to."""
        return self.cases_of.get(token, (self.family_of[token],))


def perpetrators_only(edges: Iterable[Edge], person_of: Mapping[str, str]) -> set[str]:
    """Persons named as a perpetrator and never as a victim."""
    named = [(person_of[x.a], person_of[x.b]) for x in edges if x.kind == PERPETRATOR_OF]
    return {p for p, _ in named} - {v for _, v in named}


def group(tokens: Iterable[str], edges: Iterable[Edge], first_seq: Mapping[str, int]) -> Grouping:
    """Persons and cases of a closed region of the token graph (every edge of every token
    in it included), labelled by their earliest-seen token."""
    nodes = list(tokens)
    edge_list = list(edges)
    person_of: dict[str, str] = {}
    for comp in components(nodes, ((x.a, x.b) for x in edge_list if x.kind in SAME_PERSON)):
        pid = person_id(earliest(comp, first_seq))
        person_of.update(dict.fromkeys(comp, pid))
    apart = perpetrators_only(edge_list, person_of)
    core = [t for t in nodes if person_of[t] not in apart]
    # every relation joins but those of a perpetrator-only person (he is attached instead)
    joining = (
        (x.a, x.b) for x in edge_list if person_of[x.a] not in apart and person_of[x.b] not in apart
    )
    family_of: dict[str, str] = {}
    for comp in components(core, joining):
        fid = family_id(earliest(comp, first_seq))
        family_of.update(dict.fromkeys(comp, fid))
    cases: dict[str, set[str]] = {p: set() for p in apart}
    for x in edge_list:
        if x.kind == PERPETRATOR_OF and person_of[x.a] in apart:
            cases[person_of[x.a]].add(family_of[x.b])
    label = {fid: token_of_family(fid) for c in cases.values() for fid in c}
    cases_of: dict[str, tuple[str, ...]] = {}
    for t in nodes:
        if person_of[t] in apart:
            mine = sorted(cases[person_of[t]], key=lambda f: (first_seq[label[f]], f))
            cases_of[t] = tuple(mine)
            family_of[t] = mine[0]
    return Grouping(person_of, family_of, cases_of)
