"""Rules about one victim's risk: refer to Marac, refer back, route, or escalate the case.

Each rule finds its evaluation points over the whole timeline (every event that could meet
the condition, judged as of that event's own time), groups them by the victim's Marac cycle,
and raises one alert per group, holding every trigger of the group; its reason describes the
latest point.
"""

from __future__ import annotations

from hub.contract.vocabulary import EventType
from hub.domain.family import Entry
from hub.domain.rules.base import Alert, Context, Point, is_da, per_cycle, union
from hub.domain.rules.eligibility import for_16_or_over

POOR_CONTACT = {"no_answer": "no answer", "not_able_to_engage": "not able to engage"}


def _score(e: Entry) -> int:
    return int(e.facts.get("score") or 0)


def _grouped(
    ctx: Context, rule: str, victim: str, points: list[Point], words: str, action: str
) -> list[Alert]:
    """One alert per Marac cycle; `words` is formatted with the latest point's findings."""
    out = []
    for cycle, group in per_cycle(ctx, victim, points).items():
        latest = group[-1][1]
        reason = words.format(found=ctx.cites(latest), n=len(latest), window=ctx.window_words)
        said = for_16_or_over(ctx, victim, group[-1][0], reason, action)
        out.append(ctx.alert(rule, (victim, cycle), victim, union(group), *said))
    return out


def visible_high_risk(ctx: Context) -> list[Alert]:
    """A Dash with dash_high_risk or more 'yes' answers → refer to Marac."""
    out = []
    for v in ctx.victims:
        high = [
            e for e in ctx.about(v, EventType.RISK_DASH) if _score(e) >= ctx.area.dash_high_risk
        ]
        for cycle, group in per_cycle(ctx, v, [(e, [e]) for e in high]).items():
            dashes = union(group)
            scores = ", ".join(f"{_score(e)} of 24 ({ctx.cite(e)})" for e in dashes)
            reason = (
                f"Dash risk assessment scored {scores}; {ctx.area.dash_high_risk} or more "
                "'yes' answers is visible high risk"
            )
            action = "Refer to Marac: visible high risk."
            said = for_16_or_over(ctx, v, group[-1][0], reason, action)
            out.append(ctx.alert("visible_high_risk", (v, cycle), v, dashes, *said))
    return out


def raised_to(e: Entry) -> str | None:
    """The level a Dash assessor's judgement raised the risk to (None: not raised). A
    judgement sent without its level means "high", as the flag always did."""
    if not e.facts.get("professional_judgement"):
        return None
    return str(e.facts.get("judgement_raised_to") or "high")


def _judgement(ctx: Context, e: Entry) -> str:
    if e.type == EventType.REFERRAL_MADE:
        return f"referral to {e.facts.get('to')} with a stated concern ({ctx.cite(e)})"
    return (
        f"Dash scored {_score(e)} of 24 and the assessor's judgement raised the risk to high "
        f"({ctx.cite(e)})"
    )


def professional_judgement(ctx: Context) -> list[Alert]:
    """A referral flagged as professional judgement with its stated concern, or a Dash below
    the high-risk score whose assessor's judgement raised the risk *to high* → refer to
    Marac. Judgement raising a low score to medium routes to the community Idva instead
    (medium_risk): only "raised to high" asks for a Marac referral."""
    out = []
    for v in ctx.victims:
        flagged = [
            e
            for e in ctx.about(v, EventType.REFERRAL_MADE, EventType.RISK_DASH)
            if e.facts.get("professional_judgement")
            and (
                e.facts.get("concern_stated")
                if e.type == EventType.REFERRAL_MADE
                else raised_to(e) == "high" and _score(e) < ctx.area.dash_high_risk
            )
        ]
        for cycle, group in per_cycle(ctx, v, [(e, [e]) for e in flagged]).items():
            found = union(group)
            reason = "Professional judgement: " + "; ".join(_judgement(ctx, e) for e in found)
            action = "Refer to Marac on professional judgement."
            said = for_16_or_over(ctx, v, group[-1][0], reason, action)
            out.append(ctx.alert("professional_judgement", (v, cycle), v, found, *said))
    return out


def _medium(ctx: Context, e: Entry) -> bool:
    """Medium risk: a score in the band and not raised to high, or a lower score that the
    assessor's judgement raised to medium."""
    lo, hi = ctx.area.medium_risk_min, ctx.area.medium_risk_max
    level = raised_to(e)
    return (lo <= _score(e) <= hi and level != "high") or (_score(e) < lo and level == "medium")


def medium_risk(ctx: Context) -> list[Alert]:
    """A Dash in the medium band (6 to 9), or below it with judgement raised to medium
    → community Idva."""
    lo, hi = ctx.area.medium_risk_min, ctx.area.medium_risk_max
    out = []
    for v in ctx.victims:
        medium = [e for e in ctx.about(v, EventType.RISK_DASH) if _medium(ctx, e)]
        for cycle, group in per_cycle(ctx, v, [(e, [e]) for e in medium]).items():
            found = union(group)
            scores = ", ".join(
                f"{_score(e)} of 24 ({ctx.cite(e)})"
                + (", raised to medium on professional judgement" if _score(e) < lo else "")
                for e in found
            )
            reason = f"Dash risk assessment scored {scores}: medium risk ({lo} to {hi})"
            action = (
                "Route to the community Idva service; professional judgement may raise the "
                "risk level."
            )
            said = for_16_or_over(
                ctx, v, group[-1][0], reason, action, "The community Idva service"
            )
            out.append(ctx.alert("medium_risk", (v, cycle), v, found, *said))
    return out


def potential_escalation(ctx: Context) -> list[Alert]:
    """escalation_events or more domestic-abuse events about the victim, from any agency, in
    the rolling window → consider Marac. Events count within one Marac cycle: after a hearing,
    new abuse is a repeat (its own rule) and escalation counts afresh."""
    out = []
    for v in ctx.victims:
        da = ctx.series(
            e
            for e in ctx.about(v, EventType.POLICE_INCIDENT, EventType.HEALTH_ATTENDANCE)
            if is_da(e)
        )
        points = []
        for e in da:
            cycle = ctx.cycle(v, e)
            found = [x for x in ctx.window(da, e) if ctx.cycle(v, x) == cycle]
            if len(found) >= ctx.area.escalation_events:
                points.append((e, found))
        words = "{n} domestic-abuse events in {window}: {found}"
        action = "Consider a referral to Marac: potential escalation."
        out += _grouped(ctx, "potential_escalation", v, points, words, action)
    return out


def marac_referral_points(ctx: Context, v: str) -> list[Entry]:
    """When the victim was referred to Marac, in timeline order: each referral to Marac, and
    each hearing with no Marac referral in the hub since the hearing before it (the referral
    was made outside the hub; the hearing is the latest date the hub knows it by)."""
    referrals = [e for e in ctx.about(v, EventType.REFERRAL_MADE) if e.facts.get("to") == "marac"]
    points = list(referrals)
    previous = None
    for h in ctx.about(v, EventType.MARAC_CASE_HEARD):
        if not any(
            (previous is None or r.key > previous.key) and r.key <= h.key for r in referrals
        ):
            points.append(h)
        previous = h
    return sorted(points, key=lambda e: e.key)


def _since_words(ctx: Context, anchor: Entry) -> str:
    if anchor.type == EventType.MARAC_CASE_HEARD:
        return (
            f"Marac heard the case on {anchor.facts.get('meeting_date')} "
            f"({anchor.facts.get('area')})"
        )
    return f"Referred to Marac ({ctx.cite(anchor)})"


def repeat_marac_case(ctx: Context) -> list[Alert]:
    """Abuse between the same victim and perpetrator(s), reported by any agency, within the
    window after the victim's last Marac referral → refer back to Marac (SafeLives: a further
    incident within 12 months of the date of the last referral). The referral is the
    ``referral.made`` to Marac; where the hub holds none since the previous hearing, the
    hearing stands in for it (the latest date the hub knows). Abuse between a referral and its
    hearing counts: the chair hears the case with it. An event naming no perpetrator counts
    (it may be the same person); one naming only new perpetrators does not. After the window
    it is a new referral (the other rules)."""
    out = []
    for v in ctx.victims:
        anchors = ctx.series(marac_referral_points(ctx, v))
        if not len(anchors):
            continue
        points: dict[str, list[Point]] = {}
        perpetrators: dict[str, set[str]] = {}  # referral → perpetrators named with v by then
        for e in ctx.about(v, EventType.POLICE_INCIDENT, EventType.HEALTH_ATTENDANCE):
            earlier = anchors.before(e)
            if not is_da(e) or not earlier:
                continue
            anchor = earlier[-1]
            if anchor.hub_id not in perpetrators:
                upto = ctx.series(ctx.history(v)).upto(anchor)
                perpetrators[anchor.hub_id] = {q for x in upto for q in x.persons("perpetrator")}
            known, named = perpetrators[anchor.hub_id], set(e.persons("perpetrator"))
            if ctx.within(anchor, e) and (not named or not known or named & known):
                points.setdefault(anchor.hub_id, []).append((e, [e]))
        for anchored, group in points.items():
            anchor = ctx.entry(anchored)
            reason = (
                f"{_since_words(ctx, anchor)}; abuse reported since, within "
                f"{ctx.window_words}: {ctx.cites(union(group))}"
            )
            action = "Refer back to Marac as a repeat case."
            said = for_16_or_over(ctx, v, group[-1][0], reason, action)
            out.append(ctx.alert("repeat_marac_case", (v, anchored), v, union(group), *said))
    return out


def complex_case(ctx: Context) -> list[Alert]:
    """complex_case_referrals or more referrals about the victim into the service (the area's
    complex_case_services: the Idva / complex-case service) in the window, and
    poor_engagement_attempts or more contact attempts in it that did not reach them (local
    practice, a setting) → complex-case team."""
    into = ctx.area.complex_case_services
    out = []
    for v in ctx.victims:
        referrals = ctx.series(
            e for e in ctx.about(v, EventType.REFERRAL_MADE) if e.facts.get("to") in into
        )
        poor = ctx.series(
            e
            for e in ctx.about(v, EventType.CONTACT_ATTEMPTED)
            if e.facts.get("outcome") in POOR_CONTACT
        )
        points = []
        for e in sorted([*referrals, *poor], key=lambda x: x.key):
            r, c = ctx.window(referrals, e), ctx.window(poor, e)
            if (
                len(r) >= ctx.area.complex_case_referrals
                and len(c) >= ctx.area.poor_engagement_attempts
            ):
                points.append((e, [*r, *c]))
        for cycle, group in per_cycle(ctx, v, points).items():
            latest = group[-1][1]
            r = [e for e in latest if e.type == EventType.REFERRAL_MADE]
            c = [e for e in latest if e.type == EventType.CONTACT_ATTEMPTED]
            tried = ", ".join(f"{ctx.cite(e)} {POOR_CONTACT[str(e.facts['outcome'])]}" for e in c)
            reason = (
                f"{len(r)} referrals into the service in {ctx.window_words} ({ctx.cites(r)}), "
                f"and {len(c)} "
                f"contact attempts where we were not able to engage them into the service "
                f"({tried})"
            )
            action = "Refer to the complex-case team; review how and when contact is offered."
            out.append(ctx.alert("complex_case", (v, cycle), v, union(group), reason, action))
    return out


BANDS = ("standard", "medium", "high")


def band(ctx: Context, e: Entry) -> str:
    """A Dash's risk level: its score against the area's thresholds, or the level the
    assessor's judgement raised it to, whichever is higher."""
    score, level = _score(e), raised_to(e)
    if score >= ctx.area.dash_high_risk or level == "high":
        return "high"
    if score >= ctx.area.medium_risk_min or level == "medium":
        return "medium"
    return "standard"


def risk_downgraded(ctx: Context) -> list[Alert]:
    """A Dash that puts the victim's risk in a lower level than an earlier Dash in the window
    → warn the chair: risk is downgraded without knowledge of the background too often
    (Worth Services). The hub cannot know what the later assessor knew; it says what it holds
    since the earlier assessment, so the chair can check."""
    out = []
    for v in ctx.victims:
        dashes = ctx.series(ctx.about(v, EventType.RISK_DASH))
        da = ctx.series(
            e
            for e in ctx.about(v, EventType.POLICE_INCIDENT, EventType.HEALTH_ATTENDANCE)
            if is_da(e)
        )
        points: list[Point] = []
        for e in dashes:
            earlier = [x for x in ctx.window(dashes, e) if x.key < e.key]
            if not earlier:
                continue
            top = max(earlier, key=lambda x: (BANDS.index(band(ctx, x)), x.key))
            if BANDS.index(band(ctx, e)) < BANDS.index(band(ctx, top)):
                points.append((e, [top, e]))
        for cycle, group in per_cycle(ctx, v, points).items():
            top, latest = group[-1][1]
            since = [x for x in da if top.key < x.key <= latest.key]
            held = (
                f"the hub holds {len(since)} domestic-abuse event"
                f"{'' if len(since) == 1 else 's'} in between ({ctx.cites(since)})"
                if since
                else "the hub holds no domestic-abuse event in between"
            )
            reason = (
                f"Dash by {ctx.cite(latest)} scored {_score(latest)} of 24 "
                f"({band(ctx, latest)} risk) after {_score(top)} of 24 ({band(ctx, top)} risk) "
                f"by {ctx.cite(top)}; {held}"
            )
            action = (
                "Check the later assessment was made knowing the earlier one and the history "
                "before lowering the response; keep the case under review."
            )
            out.append(ctx.alert("risk_downgraded", (v, cycle), v, union(group), reason, action))
    return out
