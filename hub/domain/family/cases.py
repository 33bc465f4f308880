"""Support cases: a victim's time with a support service, from the referral that opened it to
the ``case.closed`` that ended it, with what the hub held at intake beside the outcomes
measured at exit (SafeLives Insights measures both ends; issue 15, section 3).

- A case **opens** with a referral of the victim into a support service (``SUPPORT_SERVICES``:
  the Idva services Insights measures) while no case of theirs is open; further referrals
  while it is open belong to it.
- It **ends** with a ``case.closed`` about the victim whose outcome is ``exit`` or
  ``onward_referral`` (``continue`` says support goes on, so the case stays open). A closure
  with no case open is a case whose start the hub does not hold (``opened`` is None).
- **First contact**: the earliest contact attempt about the victim that reached them
  (``contact_made``), at or after the opening referral and not after the closure.
- **Intake** is what the hub held about the victim when the case opened (nothing for a case
  whose start it does not hold), from the events since the previous case ended (all earlier
  history for a first case): abuse types the police reported, children present at an
  incident, a referral to children's services, needs; and the risk at intake: the first Dash
  of the case (else the latest before it) with the victim's own view of the risk.
- **Exit** is the closure's reason and exit outcomes as the service sent them; what it left
  out (every v1 closure) is "not recorded", never guessed.

Words shown for reasons and outcomes never blame the victim (DOMAIN.md): a person the service
could not reach is someone "we were not able to engage", never one who "refused".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.calendar import Calendar
from hub.domain.family.entry import Entry
from hub.domain.family.queries import FamilyTimeline, victims

SUPPORT_SERVICES = ("idva", "community_idva", "complex_needs")
ENDS_SUPPORT = ("exit", "onward_referral")
NOT_RECORDED = "Not recorded"

REASON_WORDS = {
    "support_completed": "Support completed",
    "client_chose_to_end": "The client chose to end support",
    "not_able_to_engage": "We were not able to engage the client into the service",
    "moved_out_of_area": "Moved out of the area",
    "passed_to_another_service": "Support passed to another service",
    "other": "Another reason",
}
OUTCOME_WORDS = {"exit": "Support ended", "onward_referral": "Referred on", "continue": "Continues"}
# Answers at exit, per measure; "not_known" is the service's answer, NOT_RECORDED its absence.
CHANGE_WORDS = {
    "stopped": "Stopped",
    "reduced": "Reduced",
    "same": "No change",
    "increased": "Increased",
    "not_known": "Not known",
    "no_children": "No children",
}
EXIT_WORDS: dict[str, dict[str, str]] = {
    "feels_safer": {"yes": "Feels safer", "no": "Does not feel safer", "not_known": "Not known"},
    "wellbeing": {
        "improved": "Improved",
        "same": "No change",
        "worse": "Worse",
        "not_known": "Not known",
    },
    "children_exposure": CHANGE_WORDS,
    "childrens_social_care": {
        "none": "Not involved",
        "early_help": "Early help",
        "child_in_need": "Child in need",
        "child_protection": "Child protection",
        "looked_after": "Looked after",
    },
    "engagement": {
        "throughout": "Engaged throughout support",
        "part": "Engaged for part of the support",
        "not_able_to_engage": "We were not able to engage the client into the service",
    },
}


def exit_words(measure: str, answer: Any) -> str:
    """An exit answer in the words the pages and reports show."""
    if answer is None:
        return NOT_RECORDED
    return EXIT_WORDS.get(measure, CHANGE_WORDS).get(str(answer), str(answer))


@dataclass(frozen=True)
class SupportCase:
    victim: str
    opened: Entry | None  # the referral that opened it (None: the hub holds no start)
    first_contact: Entry | None
    closed: Entry | None  # None: still open
    intake: dict[str, Any]

    @property
    def exit(self) -> dict[str, Any]:
        """The outcomes measured at exit ({} while open or when none were sent)."""
        found = self.closed.facts.get("exit") if self.closed else None
        return dict(found) if isinstance(found, dict) else {}

    @property
    def reason(self) -> str | None:
        return None if self.closed is None else self.closed.facts.get("reason")

    def days_to_first_contact(self, cal: Calendar) -> int | None:
        """Calendar days from the referral to the first contact (same day: 0)."""
        return _days(self.opened, self.first_contact, cal)

    def days_of_support(self, cal: Calendar) -> int | None:
        """Calendar days from the referral to the closure."""
        return _days(self.opened, self.closed, cal)

    def to_dict(self, cal: Calendar) -> dict[str, Any]:
        return {
            "victim": self.victim,
            "opened": _iso(self.opened),
            "referred_to": self.opened.facts.get("to") if self.opened else None,
            "first_contact": _iso(self.first_contact),
            "closed": _iso(self.closed),
            "closed_by": self.closed.agency_id if self.closed else None,
            "outcome": self.closed.facts.get("outcome") if self.closed else None,
            "reason": self.reason,
            "days_to_first_contact": self.days_to_first_contact(cal),
            "days_of_support": self.days_of_support(cal),
            "intake": self.intake,
            "exit": self.exit,
        }


def _iso(e: Entry | None) -> str | None:
    return None if e is None else e.time.isoformat()


def _days(a: Entry | None, b: Entry | None, cal: Calendar) -> int | None:
    if a is None or b is None:
        return None
    return (cal.local_date(b.time) - cal.local_date(a.time)).days


def _opens(e: Entry) -> bool:
    return e.type == EventType.REFERRAL_MADE and e.facts.get("to") in SUPPORT_SERVICES


def _ends(e: Entry) -> bool:
    return e.type == EventType.CASE_CLOSED and e.facts.get("outcome") in ENDS_SUPPORT


def _intake(before: list[Entry], during: list[Entry]) -> dict[str, Any]:
    """What the hub held at intake: `before` is the episode up to the opening referral,
    `during` the case itself (for the Dash of the case)."""
    incidents = [e for e in before if e.type == EventType.POLICE_INCIDENT]
    dashes = [e for e in during if e.type == EventType.RISK_DASH]
    dashes = dashes[:1] or [e for e in before if e.type == EventType.RISK_DASH][-1:]
    return {
        "abuse_types": sorted({str(t) for e in incidents for t in e.facts.get("abuse_types", ())}),
        "children_exposed": any(
            e.facts.get("children_present") or e.facts.get("children_ages") for e in incidents
        ),
        "childrens_services_referral": any(
            e.type == EventType.REFERRAL_MADE and e.facts.get("to") == "childrens_services"
            for e in before
        ),
        "needs": sorted(
            {
                str(n)
                for e in before
                if e.type == EventType.NEEDS_IDENTIFIED
                for n in e.facts.get("needs", ())
            }
        ),
        "dash_score": dashes[0].facts.get("score") if dashes else None,
        "victim_view": dashes[0].facts.get("victim_view") if dashes else None,
    }


def _cases_of(victim: str, mine: list[Entry]) -> list[SupportCase]:
    out: list[SupportCase] = []
    episode_start = 0  # index in `mine` after the previous case ended
    opened: int | None = None
    for i, e in enumerate(mine):
        if opened is None and _opens(e):
            opened = i
        elif _ends(e):
            out.append(_case(victim, mine, episode_start, opened, i))
            episode_start, opened = i + 1, None
    if opened is not None:
        out.append(_case(victim, mine, episode_start, opened, None))
    return out


def _case(
    victim: str, mine: list[Entry], start: int, opened: int | None, closed: int | None
) -> SupportCase:
    begin = start if opened is None else opened
    end = len(mine) if closed is None else closed + 1
    during = mine[begin:end]
    first = (
        next(
            (
                e
                for e in during
                if e.type == EventType.CONTACT_ATTEMPTED
                and e.facts.get("outcome") == "contact_made"
            ),
            None,
        )
        if opened is not None
        else None
    )
    before = mine[start : begin + 1]
    return SupportCase(
        victim=victim,
        opened=None if opened is None else mine[opened],
        first_contact=first,
        closed=None if closed is None else mine[closed],
        intake={} if opened is None else _intake(before, during),
    )


def support_cases(p: FamilyTimeline) -> list[SupportCase]:
    """Every victim's support cases, in time order per victim."""
    out = []
    for v in victims(p):
        out += _cases_of(v, [e for e in p.timeline if not e.internal and e.is_about(v)])
    return out
