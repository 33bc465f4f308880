"""The Marac agenda: the cases for an area's next meeting, each shown only when the reader
may see every event it rests on (hub/entrypoints/api/agenda.py says which cases and why)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from pydantic import BaseModel

from hub.adapters.sql.agenda import last_meeting, marac_referrals
from hub.adapters.sql.alerts import alerts_of_families, families_in_area
from hub.adapters.sql.families import family_id_of_token, find_family
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.domain.agencies import load_agency_types
from hub.domain.agenda import Case, family_cases
from hub.domain.areas import AreaBook, victim_area
from hub.domain.family import FamilyProjection
from hub.domain.research_prompts import ResearchPrompts, load_research_prompts
from hub.services.access import area_in_scope, marac_only
from hub.services.context import HubContext
from hub.services.errors import Unusable


class CaseAlert(BaseModel):
    alert_id: str
    rule: str
    status: str
    reason: str
    recommended_action: str
    event_time: str


class Referral(BaseModel):
    event_id: str
    time: str
    agency_id: str
    professional_judgement: bool


class CaseOut(BaseModel):
    family_id: str
    victim_token: str
    victim_name: str | None
    on_agenda: bool  # an alert was added to the agenda; otherwise proposed for it
    meeting_date: str | None
    repeat: bool
    repeat_reasons: list[str]
    rules: list[str]
    reasons: list[str]
    alerts: list[CaseAlert]
    referrals: list[Referral]
    agencies: list[dict[str, Any]]
    open_actions: list[dict[str, Any]]
    research_prompts: list[dict[str, Any]]


class Agenda(BaseModel):
    area: str
    since: date | None  # items on or after this day (the last meeting, or as asked)
    last_meeting: date | None
    cases: list[CaseOut]
    withheld: int
    refusals: list[str]
    audit_record_id: str | None


@functools.cache
def _prompts() -> ResearchPrompts:
    return load_research_prompts(known_types=[*load_agency_types(), "hub"])


def _families(services: HubContext, area: str, since: date | None, book: AreaBook) -> list[str]:
    """Families with an alert in the area, and those of referrals to Marac in the area."""
    found = dict.fromkeys(families_in_area(services.engine, area))
    for referral in marac_referrals(services.engine, since):
        fid = family_id_of_token(services.engine, referral.victim_token)
        if fid is None or fid in found:
            continue
        lookup = find_family(services.engine, fid)
        state = None if lookup is None else lookup.state
        if state is not None and victim_area(FamilyProjection.from_dict(state), book).name == area:
            found[fid] = None
    return list(found)


def build(
    services: HubContext, area: str, since: date | None
) -> tuple[list[Case], date | None, date | None]:
    """(cases, since used, last meeting)."""
    book = services.areas
    last = last_meeting(services.engine, area)
    since = since if since is not None else last
    fids = _families(services, area, since, book)
    alerts = [a for a in alerts_of_families(services.engine, fids) if a.area == area]
    by_family: dict[str, list[Any]] = {}
    for a in alerts:
        by_family.setdefault(a.family_id, []).append(a)
    cases: list[Case] = []
    settings = book.get(area)
    for fid in fids:
        lookup = find_family(services.engine, fid)
        if lookup is None or lookup.state is None:
            continue
        cases += family_cases(
            fid, lookup.state, by_family.get(fid, []), since, settings, _prompts()
        )
    return sorted(cases, key=lambda c: (c.first, c.family_id, c.victim)), since, last


def case_out(c: Case, names: dict[str, dict[str, str | None]]) -> CaseOut:
    return CaseOut(
        family_id=c.family_id, victim_token=c.victim_token,
        victim_name=names.get(c.victim_token, {}).get("name"), on_agenda=c.on_agenda,
        meeting_date=c.meeting_date, repeat=c.repeat, repeat_reasons=c.repeat_reasons,
        rules=sorted({a.rule for a in c.alerts}), reasons=[a.reason for a in c.alerts],
        alerts=[
            CaseAlert(alert_id=a.alert_id, rule=a.rule, status=a.status, reason=a.reason,
                      recommended_action=a.recommended_action,
                      event_time=a.event_time.isoformat())
            for a in c.alerts
        ],
        referrals=[
            Referral(event_id=r["hub_id"], time=r["time"], agency_id=r["agency_id"],
                     professional_judgement=bool(r.get("facts", {}).get("professional_judgement")))
            for r in c.referrals
        ],
        agencies=c.agencies, open_actions=c.open_actions, research_prompts=c.research_prompts,
    )  # fmt: skip


def agenda_for(
    services: HubContext, principal: Principal, purpose: str, area: str | None,
    since: date | None,
) -> Agenda:  # fmt: skip
    """The area's next Marac agenda as this reader may see it, audited first."""
    marac_only(principal, "read the Marac agenda")
    scoped = area_in_scope(principal, area)
    if scoped is None:
        msg = "give the Marac area, e.g. ?area=default"
        raise Unusable(msg, [error_entry(("query", "area"), msg, "missing")])
    area = scoped
    policy = services.policy
    cases, since_used, last = build(services, area, since)
    store = services.ingress.store
    shown, decisions, refusals = [], [], set()
    for c in cases:
        items = [e for i in c.item_ids if (e := store.get(i)) is not None]
        held = [e for e in items if e.agency_type != "hub"]
        verdicts = policy.decide(principal, purpose, held) if held else []
        if held and all(d.shared for d in verdicts):
            shown.append(c)
            decisions += verdicts
        else:
            refusals |= {d.reason for d in verdicts if not d.shared}
    record_id, names = None, {}
    if shown:
        tokens = sorted({c.victim_token for c in shown})
        record_id = policy.audit(
            principal, purpose, f"GET /v1/marac/agenda?area={area}", decisions, tokens,
            [i for c in shown for i in c.item_ids], sorted(CaseOut.model_fields),
        )  # fmt: skip
        names = services.vault.names(tokens)
    return Agenda(
        area=area, since=since_used, last_meeting=last, cases=[case_out(c, names) for c in shown],
        withheld=len(cases) - len(shown), refusals=sorted(refusals), audit_record_id=record_id,
    )  # fmt: skip
