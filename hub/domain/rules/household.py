"""Rules about the household and the people around the victim: complex needs, toxic trio
(and its stronger variant with children), serial perpetrators and children present at an
incident (Operation Encompass)."""

from __future__ import annotations

from hub.contract.vocabulary import EventType
from hub.domain.calendar import next_school_day_start
from hub.domain.family import Entry, persons_in_role
from hub.domain.rules.base import Alert, Context, Point, Series, is_da, per_cycle, union

MENTAL_HEALTH = {"mental_health"}
SUBSTANCE = {"drug_misuse", "alcohol_misuse"}
NEED_WORDS = {
    "mental_health": "mental health",
    "drug_misuse": "drug misuse",
    "alcohol_misuse": "alcohol misuse",
}


def _needs(e: Entry, wanted: set[str]) -> list[str]:
    return [str(n) for n in e.facts.get("needs", ()) if n in wanted]


def complex_needs(ctx: Context) -> list[Alert]:
    """Drug misuse, alcohol misuse and/or mental health reported about the victim in the
    window → make sure those services are part of the plan."""
    wanted = MENTAL_HEALTH | SUBSTANCE
    out = []
    for v in ctx.victims:
        found = ctx.series(e for e in ctx.about(v, EventType.NEEDS_IDENTIFIED) if _needs(e, wanted))
        points = [(e, ctx.window(found, e)) for e in found]
        for cycle, group in per_cycle(ctx, v, points).items():
            latest = group[-1][1]
            said = ", ".join(
                f"{' and '.join(NEED_WORDS[n] for n in _needs(e, wanted))} ({ctx.cite(e)})"
                for e in latest
            )
            to = ctx.day(group[-1][0].time).isoformat()
            reason = f"Reported in the {ctx.window_words} to {to}: {said}"
            action = (
                "Ask mental-health and substance-misuse services to research the case and "
                "share what they know; consider a referral to the complex-needs service."
            )
            out.append(ctx.alert("complex_needs", (v, cycle), v, union(group), reason, action))
    return out


def _child_evidence(e: Entry) -> bool:
    """The event shows a child in the household."""
    return bool(
        e.persons("child")
        or (
            e.type == EventType.POLICE_INCIDENT
            and (e.facts.get("children_present") or e.facts.get("children_ages"))
        )
        or (e.type == EventType.RELATIONSHIP_DECLARED and e.facts.get("relation") == "parent_child")
    )


def _household(ctx: Context, victim: str) -> set[str]:
    """The victim and everyone named with them in an event about them."""
    return {victim} | {pid for e in ctx.history(victim) for pid in e.persons()}


def _trio_points(
    ctx: Context, v: str, needs: list[Entry], kids: list[Entry] | None
) -> tuple[list[Point], dict[str, tuple[list[Entry], ...]]]:
    """Where domestic abuse of v, and mental ill-health and substance misuse of anyone in v's
    household, all fall in the window (and, with kids, a child in the household is known)."""
    home = _household(ctx, v)
    mh = ctx.series(e for e in needs if _needs(e, MENTAL_HEALTH) and home & set(e.about()))
    sm = ctx.series(e for e in needs if _needs(e, SUBSTANCE) and home & set(e.about()))
    da = ctx.series(
        e for e in ctx.about(v, EventType.POLICE_INCIDENT, EventType.HEALTH_ATTENDANCE) if is_da(e)
    )
    children = ctx.series(e for e in (kids or []) if e.names(v))
    points: list[Point] = []
    found: dict[str, tuple[list[Entry], ...]] = {}
    for e in sorted({*da, *mh, *sm, *children}, key=lambda x: x.key):
        parts = (ctx.window(da, e), ctx.window(mh, e), ctx.window(sm, e))
        known = children.upto(e)[-1:]
        if all(parts) and (kids is None or known):
            points.append((e, [*parts[0], *parts[1], *parts[2], *known]))
            found[e.hub_id] = (*parts, known)
    return points, found


def _trio_alerts(ctx: Context, rule: str, kids: list[Entry] | None, action: str) -> list[Alert]:
    needs = [e for e in ctx.entries if e.type == EventType.NEEDS_IDENTIFIED]
    out = []
    for v in ctx.victims:
        points, found = _trio_points(ctx, v, needs, kids)
        for cycle, group in per_cycle(ctx, v, points).items():
            point = group[-1][0]
            w_da, w_mh, w_sm, known = found[point.hub_id]
            child = f", with a child in the household ({ctx.cites(known)})" if known else ""
            reason = (
                f"In the {ctx.window_words} to {ctx.day(point.time).isoformat()}: domestic "
                f"abuse ({ctx.cites(w_da)}), mental ill-health ({ctx.cites(w_mh)}) and "
                f"substance misuse ({ctx.cites(w_sm)}){child}"
            )
            out.append(ctx.alert(rule, (v, cycle), v, union(group), reason, action))
    return out


def toxic_trio(ctx: Context) -> list[Alert]:
    """Domestic abuse of the victim, and mental ill-health and substance misuse of anyone in
    the victim's household (the people named with them), all in the window: flagged for every
    victim where the three are present, children or not (Worth Services)."""
    action = (
        "Ask mental-health and substance-misuse services to share what they know for the "
        "plan, and make sure both are part of it."
    )
    return _trio_alerts(ctx, "toxic_trio", None, action)


def toxic_trio_children(ctx: Context) -> list[Alert]:
    """The toxic trio with a child in the victim's household known by then (an event naming
    the victim and a child): the stronger alert, for the chair and children's social care."""
    kids = [e for e in ctx.entries if _child_evidence(e)]
    action = (
        "Children live with all three: tell children's social care and consider a referral; "
        "make sure the Marac plan covers the children's safety."
    )
    return _trio_alerts(ctx, "toxic_trio_children", kids, action)


def _police_marked(ctx: Context, q: str) -> Entry | None:
    """The police high-risk-perpetrator marker on q still in force (the latest police marker
    event of that kind about q adds it), or None."""
    marks = [
        e
        for e in ctx.about(q, EventType.MARKER_ADDED, EventType.MARKER_REMOVED)
        if e.agency_type == "police" and e.facts.get("marker") == "high_risk_perpetrator"
    ]
    return marks[-1] if marks and marks[-1].type == EventType.MARKER_ADDED else None


def serial_perpetrator(ctx: Context) -> list[Alert]:
    """A perpetrator named with serial_perpetrator_victims or more different victims (a
    setting: the sources give no number), or carrying a police high-risk-perpetrator marker
    whatever the number of victims → flag for review: DVDS (Clare's Law) consideration. A
    flag for a person to review, never a finding that he is a serial perpetrator.

    Victims of his other cases count too: their events reach this case as links (the case
    keeps them out of its history), so each case he is in raises its own alert, naming the
    victims of the others; the alert is keyed by him and the case."""
    out = []
    linked = {e.hub_id for e in ctx.p.links}
    for q in persons_in_role(ctx.p, "perpetrator"):
        first: dict[str, Entry] = {}  # each victim's first event naming them with q
        for e in sorted((*ctx.entries, *ctx.p.links), key=lambda x: x.key):
            if e.names(q, "perpetrator"):
                for v in e.persons("victim"):
                    first.setdefault(v, e)
        first.pop(q, None)
        marked = _police_marked(ctx, q)
        several = len(first) >= ctx.area.serial_perpetrator_victims
        if not several and marked is None:
            continue
        links = sorted(set(first.values()) | ({marked} if marked else set()), key=lambda e: e.key)
        found = []
        if several:
            named = ctx.cites(sorted(set(first.values()), key=lambda e: e.key))
            elsewhere = sum(1 for e in first.values() if e.hub_id in linked)
            other = f"; {elsewhere} of them in other cases linked through him" if elsewhere else ""
            found.append(
                f"named as perpetrator with {len(first)} different victims (each first "
                f"named: {named}{other})"
            )
        if marked is not None:
            found.append(f"a high-risk-perpetrator marker added by {ctx.cite(marked)}")
        reason = (
            "For review, not a finding: the same person is "
            + "; and ".join(found)
            + f". The area flags {ctx.area.serial_perpetrator_victims} or more victims."
        )
        action = (
            "Review whether to consider a DVDS (Clare's Law) disclosure, and make sure each "
            "victim's Marac knows of the others."
        )
        key = (q, ctx.p.family_id)
        out.append(ctx.alert("serial_perpetrator", key, None, links, reason, action))
    return out


def _household_child(incident: Entry, kids: dict[str, Series]) -> Entry | None:
    """Evidence, as of the incident, of a child in its victim's household: the incident
    itself, or the latest earlier event naming the victim and a child. (A child linked only
    to the perpetrator may live elsewhere; telling a school is not done on a guess.)"""
    if _child_evidence(incident):
        return incident
    earlier = [
        x for v in incident.persons("victim") if v in kids for x in kids[v].before(incident)[-1:]
    ]
    return max(earlier, key=lambda x: x.key) if earlier else None


def children_present(ctx: Context) -> list[Alert]:
    """A police incident with a child in the household → tell the school and children's
    services before the next school day starts (Operation Encompass)."""
    named: dict[str, list[Entry]] = {}
    for x in ctx.entries:
        if _child_evidence(x):
            for pid in x.persons():
                named.setdefault(pid, []).append(x)
    kids = {pid: ctx.series(xs) for pid, xs in named.items()}
    out = []
    for e in ctx.entries:
        evidence = _household_child(e, kids) if e.type == EventType.POLICE_INCIDENT else None
        if evidence is None:
            continue
        due = next_school_day_start(e.time, ctx.cal)
        ages = ", ".join(str(a) for a in e.facts.get("children_ages", ()))
        if evidence is e:
            what = "children present" + (f" (ages {ages})" if ages else "")
        else:
            what = f"a child in the household known from {ctx.cite(evidence)}"
        victims = e.persons("victim")
        reason = (
            f"Incident recorded by {ctx.area.label(e.agency_id)} on "
            f"{ctx.day(e.time).isoformat()} with {what}"
        )
        action = (
            "Operation Encompass: tell the child's school and children's services before the "
            f"next school day starts ({ctx.local(due)})."
        )
        out.append(
            ctx.alert(
                "children_present",
                (e.hub_id,),
                victims[0] if victims else None,
                [e],
                reason,
                action,
                due=due,
            )
        )
    return out
