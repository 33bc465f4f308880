"""The Marac agenda of an area: the cases for its next meeting, built from family projections
(hub.domain.family ``to_dict``) and the alerts table. Pure: the caller reads, this decides.

A case is one victim of one family. It is on the agenda when, for that victim:
- an alert was added to the agenda (hub.alert.agenda_added) and the victim has not been heard
  at Marac on or after the day it was added; or
- a Marac-referral alert (MARAC_RULES), new or acknowledged, or a referral to Marac
  (referral.made to "marac") has an event date on or after ``since`` and the victim has not
  been heard on or after that date.

``since`` is the area's last meeting (the latest marac.case_heard meeting date in the area)
or the date the caller gives; both ends are whole UTC days and inclusive, so a referral made
on the day of the last meeting is listed unless that meeting heard the victim.

A case is flagged **repeat** when a repeat-Marac-case alert is among its alerts, or the victim
was heard at Marac within the area's window (default 12 months) before the case's latest item.
Cases are listed in the order they were first referred (earliest first); the agencies are the
family's mini-plan, the open actions those of every hearing of the victim, and the research
prompts those of each agency involved plus the agency types always asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.alerts import AlertStatus, StoredAlert
from hub.domain.areas import AreaSettings
from hub.domain.research_prompts import ResearchPrompts

# Rules whose recommended action is a (re)referral to Marac.
MARAC_RULES = frozenset(
    {"visible_high_risk", "professional_judgement", "potential_escalation", "repeat_marac_case"}
)
OPEN = frozenset({AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.REOPENED})


@dataclass
class Case:
    family_id: str
    victim: str  # person id
    victim_token: str
    alerts: list[StoredAlert] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)  # timeline entries
    on_agenda: bool = False
    meeting_date: str | None = None
    repeat: bool = False
    repeat_reasons: list[str] = field(default_factory=list)
    agencies: list[dict[str, Any]] = field(default_factory=list)
    open_actions: list[dict[str, Any]] = field(default_factory=list)
    research_prompts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def item_ids(self) -> list[str]:
        """The events the case rests on: alert triggers and referrals (for the policy)."""
        ids = [i for a in self.alerts for i in a.triggering_event_ids]
        ids += [str(r["hub_id"]) for r in self.referrals]
        return list(dict.fromkeys(ids))

    @property
    def first(self) -> datetime:
        times = [a.event_time for a in self.alerts]
        times += [datetime.fromisoformat(r["time"]) for r in self.referrals]
        return min(times)

    @property
    def latest(self) -> date:
        times = [a.event_time for a in self.alerts]
        times += [datetime.fromisoformat(r["time"]) for r in self.referrals]
        return max(times).date()


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def about(entry: Mapping[str, Any]) -> list[str]:
    """Whom a timeline entry is about: its victims, or else its first subject."""
    subjects = entry.get("subjects", [])
    victims = [s["person_id"] for s in subjects if s["role"] == "victim"]
    return victims or [s["person_id"] for s in subjects[:1]]


def hearings_in_state(state: Mapping[str, Any], victim: str) -> list[dict[str, Any]]:
    heard = state.get("marac", {}).get("hearings", [])
    return [h for h in heard if victim in h.get("victims", ()) and h.get("meeting_date")]


def heard_since(state: Mapping[str, Any], victim: str, day: date) -> bool:
    return any(_day(h["meeting_date"]) >= day for h in hearings_in_state(state, victim))


def victim_of(state: Mapping[str, Any], alert: StoredAlert) -> str | None:
    """The person id of the alert's victim, by token (None: about a perpetrator only)."""
    if not alert.victim_token:
        return None
    for pid, member in state.get("members", {}).items():
        if alert.victim_token in member.get("tokens", ()):
            return str(pid)
    return None


def _token_of(state: Mapping[str, Any], victim: str) -> str:
    tokens = state.get("members", {}).get(victim, {}).get("tokens", [])
    return str(tokens[0]) if tokens else victim


def _alert_counts(state: Mapping[str, Any], a: StoredAlert, since: date | None) -> bool:
    v = victim_of(state, a)
    if v is None:
        return False
    if a.status == AlertStatus.ON_AGENDA:
        added = str(a.status_detail.get("at") or a.updated_at.isoformat())
        return not heard_since(state, v, _day(added))
    if a.rule not in MARAC_RULES or a.status not in OPEN:
        return False
    day = a.event_time.date()
    return (since is None or day >= since) and not heard_since(state, v, day)


def _referrals(
    state: Mapping[str, Any], since: date | None
) -> Iterable[tuple[str, dict[str, Any]]]:
    for e in state.get("timeline", []):
        if e["type"] != EventType.REFERRAL_MADE or e.get("facts", {}).get("to") != "marac":
            continue
        day = _day(e["time"])
        for v in about(e):
            if (since is None or day >= since) and not heard_since(state, v, day):
                yield v, e


def family_cases(
    family_id: str,
    state: Mapping[str, Any],
    alerts: Sequence[StoredAlert],
    since: date | None,
    area: AreaSettings,
    prompts: ResearchPrompts,
) -> list[Case]:
    """The cases of one family for the next meeting (see the module docstring)."""
    cases: dict[str, Case] = {}

    def case(v: str) -> Case:
        return cases.setdefault(v, Case(family_id, v, _token_of(state, v)))

    for a in alerts:
        if _alert_counts(state, a, since):
            c = case(str(victim_of(state, a)))
            c.alerts.append(a)
            if a.status == AlertStatus.ON_AGENDA:
                c.on_agenda = True
                c.meeting_date = c.meeting_date or a.status_detail.get("meeting_date")
            if a.victim_token:
                c.victim_token = a.victim_token
    for v, entry in _referrals(state, since):
        case(v).referrals.append(entry)
    for c in cases.values():
        _flag_repeat(state, c, area)
        c.agencies = list(state.get("agencies", []))
        c.open_actions = [
            {
                k: x.get(k)
                for k in (
                    "action_id",
                    "action",
                    "owner_agency",
                    "text",
                    "due_date",
                    "state",
                    "meeting_date",
                    "hearing",
                )
            }
            for x in state.get("marac", {}).get("open_actions", [])
            if x.get("victim") == c.victim
        ]
        c.research_prompts = prompts.for_case(c.agencies)
    return sorted(cases.values(), key=lambda c: (c.first, c.victim))


def _flag_repeat(state: Mapping[str, Any], c: Case, area: AreaSettings) -> None:
    for a in c.alerts:
        if a.rule == "repeat_marac_case":
            c.repeat_reasons.append(f"repeat Marac case: {a.reason}")
    latest = c.latest
    for h in hearings_in_state(state, c.victim):
        heard = _day(h["meeting_date"])
        if area.in_window(heard, latest):
            where = f" ({h['area']})" if h.get("area") else ""
            c.repeat_reasons.append(
                f"heard at Marac{where} on {heard.isoformat()}, within {area.window_words}"
            )
    c.repeat = bool(c.repeat_reasons)
