"""Views of a family derived from its timeline: pure functions, recomputed, never stored apart.

Choices a reader should know:
- **Members** and **agencies** count agency events only; the hub's own events (alert
  decisions, identity decisions) appear in the timeline but do not make anyone "involved".
- **Relations**: ``relationship.declared`` gives its relation (for parent_child and carer the
  first person is the parent or carer); any event naming a victim and a perpetrator links
  them (victim_perpetrator); children and household members named with a victim are linked
  to the victim (household). Symmetric kinds list the two persons sorted.
- **Needs** belong to whom the event is about (the victim named, else its first subject).
- **Markers** are per person, marker and agency: the latest add or remove of each.
- **Current risk**: the latest Dash; professional judgement is raised when the latest Dash or
  a referral since the latest hearing says so; Marac status is the latest of a hearing
  ("heard") and a referral to Marac ("referred").
- **Marac history** and **open actions**: every hearing's actions, tracked (actions.py);
  open are those neither done nor found not possible by their owning agency.
- **Support cases**: each victim's cases with a support service, intake beside exit
  (cases.py); days are counted in the default calendar (England and Wales).
- **Alert states**: see lifecycle.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.calendar import Calendar
from hub.domain.family.actions import tracked_actions
from hub.domain.family.cases import support_cases
from hub.domain.family.entry import HUB, Entry
from hub.domain.family.lifecycle import alert_status
from hub.domain.family.queries import FamilyTimeline, hearings_of, victims

SYMMETRIC = {"partner", "ex_partner", "sibling", "household"}


def _iso(t: datetime) -> str:
    return t.isoformat()


def members(p: FamilyTimeline) -> dict[str, dict[str, Any]]:
    """person id → tokens, roles seen, first and last event time."""
    out: dict[str, dict[str, Any]] = {}
    for e in p.timeline:
        if e.internal:
            continue
        for s in e.subjects:
            m = out.setdefault(s.person_id, {"tokens": set(), "roles": set(), "first": e.time})
            m["tokens"].add(s.token)
            m["roles"].add(s.role)
            m["last"] = e.time
    return {
        pid: {
            "tokens": sorted(m["tokens"]),
            "roles": sorted(m["roles"]),
            "first": _iso(m["first"]),
            "last": _iso(m["last"]),
        }
        for pid, m in sorted(out.items())
    }


def _pairs(e: Entry) -> list[tuple[str, str, str]]:
    if e.type == EventType.RELATIONSHIP_DECLARED and len(e.subjects) == 2:
        a, b, kind = e.subjects[0].person_id, e.subjects[1].person_id, str(e.facts["relation"])
        if kind in SYMMETRIC and b < a:
            a, b = b, a
        return [(a, b, kind)]
    out = []
    for v in e.persons("victim"):
        out += [(v, q, "victim_perpetrator") for q in e.persons("perpetrator")]
        out += [(v, c, "household") for c in (*e.persons("child"), *e.persons("household_member"))]
    return out


def relations(p: FamilyTimeline) -> list[dict[str, Any]]:
    """Every relation between two persons, with when it was seen and by which events."""
    seen: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    for e in p.timeline:
        if not e.internal:
            for a, b, kind in _pairs(e):
                if a != b:
                    seen[(a, b, kind)].append(e)
    return [
        {
            "a": a,
            "b": b,
            "kind": kind,
            "first": _iso(es[0].time),
            "last": _iso(es[-1].time),
            "event_ids": [x.hub_id for x in es],
        }
        for (a, b, kind), es in sorted(seen.items())
    ]


def current_risk(p: FamilyTimeline) -> dict[str, dict[str, Any]]:
    """victim → latest Dash, professional judgement raised, Marac status."""
    out = {}
    for v in victims(p):
        mine = [e for e in p.timeline if not e.internal and e.is_about(v)]
        dashes = [e for e in mine if e.type == EventType.RISK_DASH]
        heard = hearings_of(p, v)
        since = heard[-1].key if heard else None
        pj_referral = any(
            e.type == EventType.REFERRAL_MADE and e.facts.get("professional_judgement")
            for e in mine
            if since is None or e.key > since
        )
        marac = [
            e for e in mine if e.type == EventType.MARAC_CASE_HEARD or e.facts.get("to") == "marac"
        ]
        dash = dashes[-1] if dashes else None
        out[v] = {
            "dash": None
            if dash is None
            else {
                "score": dash.facts.get("score"),
                "time": _iso(dash.time),
                "event_id": dash.hub_id,
                "victim_view": dash.facts.get("victim_view"),
            },
            "professional_judgement": bool(dash and dash.facts.get("professional_judgement"))
            or pj_referral,
            "marac": _marac_status(marac[-1] if marac else None),
        }
    return out


def _marac_status(e: Entry | None) -> dict[str, Any]:
    if e is None:
        return {"status": "none"}
    if e.type == EventType.MARAC_CASE_HEARD:
        return {
            "status": "heard",
            "date": e.facts.get("meeting_date"),
            "area": e.facts.get("area"),
            "event_id": e.hub_id,
        }
    return {"status": "referred", "date": e.time.date().isoformat(), "event_id": e.hub_id}


def markers(p: FamilyTimeline) -> dict[str, list[dict[str, Any]]]:
    """person → each (marker, agency) with its latest state."""
    latest: dict[tuple[str, str, str], Entry] = {}
    for e in p.timeline:
        if e.type in (EventType.MARKER_ADDED, EventType.MARKER_REMOVED):
            for pid in e.persons():
                latest[(pid, str(e.facts.get("marker")), e.agency_id)] = e
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (pid, marker, agency), e in sorted(latest.items()):
        added = e.type == EventType.MARKER_ADDED
        out[pid].append(
            {
                "marker": marker,
                "agency_id": agency,
                "present": added,
                "since": e.facts.get("since") if added else None,
                "changed": _iso(e.time),
                "reason": None if added else e.facts.get("reason"),
            }
        )
    return dict(out)


def needs(p: FamilyTimeline) -> dict[str, dict[str, dict[str, Any]]]:
    """person → need → first and last time reported, how often, by which agencies."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for e in p.timeline:
        if e.type != EventType.NEEDS_IDENTIFIED:
            continue
        for pid in e.about():
            for need in e.facts.get("needs", ()):
                n = out[pid].setdefault(need, {"first": _iso(e.time), "count": 0, "agencies": []})
                n["last"] = _iso(e.time)
                n["count"] += 1
                if e.agency_id not in n["agencies"]:
                    n["agencies"] = sorted([*n["agencies"], e.agency_id])
    return {pid: dict(sorted(ns.items())) for pid, ns in sorted(out.items())}


def agencies(p: FamilyTimeline) -> list[dict[str, Any]]:
    """The mini-plan: each agency involved, since when, last seen, how many events."""
    out: dict[str, dict[str, Any]] = {}
    for e in p.timeline:
        if e.internal or e.agency_id == HUB:  # a hearing a chair recorded in the hub
            continue
        a = out.setdefault(
            e.agency_id,
            {
                "agency_id": e.agency_id,
                "agency_type": e.agency_type,
                "first": _iso(e.time),
                "events": 0,
            },
        )
        a["last"] = _iso(e.time)
        a["events"] += 1
    return [out[k] for k in sorted(out)]


def hearings(p: FamilyTimeline) -> list[dict[str, Any]]:
    """Marac history: every hearing of every victim, in time order, each with its actions
    as tracked now (actions.py)."""
    tracked: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in tracked_actions(p):
        tracked[a.hearing_id].append(a.to_dict())
    return [
        {
            "event_id": e.hub_id,
            "victims": list(e.persons("victim")),
            "meeting_date": e.facts.get("meeting_date"),
            "area": e.facts.get("area"),
            "repeat": bool(e.facts.get("repeat")),
            "agencies_present": list(e.facts.get("agencies_present", ())),
            "risk_discussed": e.facts.get("risk_discussed"),
            "recorded_by": e.facts.get("actor"),
            "actions": tracked.get(e.hub_id, []),
        }
        for e in p.timeline
        if e.type == EventType.MARAC_CASE_HEARD
    ]


def open_actions(p: FamilyTimeline) -> list[dict[str, Any]]:
    """Actions of every hearing not yet done or found not possible by their owning agency
    (a case.closed does not finish them: done is not closed)."""
    return [
        {**a.to_dict(), "victim": a.victims[0] if a.victims else None}
        for a in tracked_actions(p)
        if not a.finished
    ]


def cases(p: FamilyTimeline) -> list[dict[str, Any]]:
    """Each victim's support cases: intake beside exit, days to first contact and of support."""
    cal = Calendar()
    return [c.to_dict(cal) for c in support_cases(p)]


def derived_views(p: FamilyTimeline) -> dict[str, Any]:
    """Every view, JSON-safe, as to_dict includes them."""
    return {
        "members": members(p),
        "relations": relations(p),
        "risk": current_risk(p),
        "markers": markers(p),
        "needs": needs(p),
        "agencies": agencies(p),
        "marac": {"hearings": hearings(p), "open_actions": open_actions(p)},
        "cases": cases(p),
        "alerts": {k: s.to_dict() for k, s in sorted(alert_status(p).items())},
    }
