"""Who is who, and who belongs with whom: pure functions over subject tokens and edges.

A person is a connected group of tokens joined by same-person edges (several strong
identifiers named for one subject; a confirmed possible match). A family is a connected group
of persons joined by relations (partner, ex-partner, parent-child, sibling, household, carer,
victim-perpetrator). Ids derive from the group's earliest-seen token, so they are stable:
when two groups join, the older id survives, and undoing the join gives the old ids back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.contract.vocabulary import EventType
from hub.domain.events import CanonicalEvent

SAME_PERSON = ("same_person", "confirmed_match")
RELATIONS = (
    "partner",
    "ex_partner",
    "parent_child",
    "sibling",
    "household",
    "carer",
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
            out.append(Edge.between(victim.token, s.token, "victim_perpetrator", e.hub_id))
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
    family_of: dict[str, str]  # token → family id


def group(tokens: Iterable[str], edges: Iterable[Edge], first_seq: Mapping[str, int]) -> Grouping:
    """Persons and families of a closed region of the token graph (every edge of every token
    in it included), labelled by their earliest-seen token."""
    nodes = list(tokens)
    edge_list = list(edges)
    person_of: dict[str, str] = {}
    for comp in components(nodes, ((x.a, x.b) for x in edge_list if x.kind in SAME_PERSON)):
        pid = person_id(earliest(comp, first_seq))
        person_of.update(dict.fromkeys(comp, pid))
    family_of: dict[str, str] = {}
    for comp in components(nodes, ((x.a, x.b) for x in edge_list)):
        fid = family_id(earliest(comp, first_seq))
        family_of.update(dict.fromkeys(comp, fid))
    return Grouping(person_of, family_of)
