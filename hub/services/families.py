"""The family view and a subject's family, decided event by event through the policy point
(hub/entrypoints/api/families.py says what each reader sees and why)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from consent.decision import Decision
from consent.policy import MARAC_ROLES
from hub.adapters.sql.failed import needs_attention
from hub.adapters.sql.families import events_by_id, events_naming, family_id_of_token, find_family
from hub.adapters.sql.principals import Principal
from hub.domain.areas import victim_area
from hub.domain.events import CanonicalEvent
from hub.domain.family import Entry, FamilyProjection
from hub.domain.reports import window_counts
from hub.services.access import (
    family_area,
    require_area,
    require_case_reader,
    require_subjects_in_area,
)
from hub.services.context import HubContext
from hub.services.disclosure import PolicyPoint
from hub.services.errors import NotFound

FAMILY_ID = r"^f_[a-z2-7]{32}$"
TOKEN = r"^st_[a-z2-7]{32}$"
SHOWN_WITH = {"time", "subjects"}  # views without these are "involvement only"
NAME_FIELDS = ["members.names"]


class Involvement(BaseModel):
    hub_id: str
    type: str
    agency_id: str


class FamilyOut(BaseModel):
    family_id: str
    members: dict[str, Any]
    relations: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    involvement: list[Involvement]
    risk: dict[str, Any]
    markers: dict[str, Any]
    needs: dict[str, Any]
    agencies: list[dict[str, Any]]
    marac: dict[str, Any]
    cases: list[dict[str, Any]]  # support cases: intake beside exit (hub/domain/family/cases.py)
    alerts: dict[str, Any]
    rule_counts: dict[str, Any]
    withheld: int
    refusals: list[str]
    audit_record_id: str | None
    # an event of the family could not be applied and is set apart (`hub failed list`): the
    # picture above lacks it until an operator retries it
    needs_attention: bool = False


class SubjectFamily(BaseModel):
    subject: str
    family_id: str
    audit_record_id: str | None


@dataclass(frozen=True)
class Moved:
    """A family id a merge retired: the family it is part of now."""

    family_id: str
    merged_into: str


def visible_entry(entry: Entry, decision: Decision) -> Entry | None:
    """The entry as the reader may see it, or None when it is involvement only."""
    if not SHOWN_WITH.issubset(decision.fields):
        return None
    if decision.view == "full":
        return entry
    allowed = set(decision.fields)
    return replace(entry, facts={k: v for k, v in entry.facts.items() if k in allowed})


class ScreenedFamily:
    """The family as this reader may see it, with the decisions that say so."""

    def __init__(
        self,
        p: FamilyProjection,
        decided: list[tuple[Entry, Decision]],
        stored: dict[str, CanonicalEvent],
    ) -> None:
        self.stored = stored
        shown: list[Entry] = []
        self.involvement: list[Involvement] = []
        self.refusals: set[str] = set()
        self.withheld = 0
        for entry, decision in decided:
            if not decision.shared:
                self.withheld += 1
                self.refusals.add(decision.reason)
                continue
            seen = visible_entry(entry, decision)
            if seen is None:
                self.involvement.append(Involvement(
                    hub_id=entry.hub_id, type=entry.type, agency_id=entry.agency_id
                ))  # fmt: skip
            else:
                shown.append(seen)
        self.involvement.sort(key=lambda x: (x.agency_id, x.type, x.hub_id))
        self.withheld += len(p.timeline) - len(decided)  # entries whose event is missing
        self.projection = FamilyProjection(p.family_id, tuple(shown), p.clock)
        self.decisions = [d for _e, d in decided]

    def shared_tokens(self) -> list[str]:
        """Tokens of the people named by the events shared with the reader."""
        ids = {d.hub_id for d in self.decisions if d.shared}
        return sorted({s.token for i in ids if i in self.stored for s in self.stored[i].subjects})


def screen_family_events(
    policy: PolicyPoint, principal: Principal, purpose: str, p: FamilyProjection,
    stored: dict[str, CanonicalEvent],
) -> ScreenedFamily:  # fmt: skip
    """Decide every timeline entry on its stored event."""
    pairs = [(e, stored[e.hub_id]) for e in p.timeline if e.hub_id in stored]
    decisions = policy.decide(principal, purpose, [ev for _e, ev in pairs])
    decided = [(e, d) for (e, _ev), d in zip(pairs, decisions, strict=True)]
    return ScreenedFamily(p, decided, stored)


def screen_family(
    services: HubContext, policy: PolicyPoint, principal: Principal, purpose: str,
    p: FamilyProjection,
) -> ScreenedFamily:  # fmt: skip
    """The family as this reader may see it, deciding on the stored events."""
    return screen_family_events(
        policy, principal, purpose, p,
        events_by_id(services.engine, [e.hub_id for e in p.timeline]),
    )  # fmt: skip


def _view(
    services: HubContext, policy: PolicyPoint, principal: Principal, purpose: str,
    p: FamilyProjection, now: datetime,
) -> FamilyOut:  # fmt: skip
    """The family view for this reader, audited before it is returned (raises AuditError)."""
    seen = screen_family(services, policy, principal, purpose, p)
    visible = seen.projection
    views = visible.to_dict()
    book = services.areas
    counts = window_counts(visible, victim_area(visible, book), now) if visible.timeline else {}
    marac = principal.role in MARAC_ROLES
    shared = {d.hub_id for d in seen.decisions if d.shared}
    tokens = seen.shared_tokens()
    fields = sorted({f for d in seen.decisions if d.shared for f in d.fields})
    record_id = None
    if seen.decisions:
        record_id = policy.audit(
            principal, purpose, f"GET /v1/families/{p.family_id}", seen.decisions, tokens,
            sorted(shared), fields + (NAME_FIELDS if marac and visible.timeline else []),
        )  # fmt: skip
    members = views["members"]
    if marac:
        names = services.vault.names(t for m in members.values() for t in m["tokens"])
        for m in members.values():
            m["names"] = {t: names[t] for t in m["tokens"] if t in names}
    return FamilyOut(
        family_id=p.family_id, members=members, relations=views["relations"],
        timeline=[_entry_out(e) for e in views["timeline"]], involvement=seen.involvement,
        risk=views["risk"], markers=views["markers"], needs=views["needs"],
        agencies=views["agencies"], marac=views["marac"], cases=views["cases"],
        alerts=views["alerts"],
        rule_counts=counts, withheld=seen.withheld, refusals=sorted(seen.refusals),
        audit_record_id=record_id,
        needs_attention=needs_attention(services.engine, p.family_id),
    )  # fmt: skip


def _entry_out(e: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as the view shows it (the projection's dict of it, built once)."""
    out = dict(e)
    out.pop("recorded_at", None)  # when the hub learnt it: not the reader's business
    return out


def family_view(
    services: HubContext, principal: Principal, purpose: str, family_id: str
) -> FamilyOut | Moved:
    """The family as this reader may see it, audited first; Moved when a merge retired the id.
    Refused (audited) to readers the policy shows nothing and to readers of another area."""
    action = f"GET /v1/families/{family_id}"
    require_case_reader(services, principal, purpose, action, [])
    found = find_family(services.engine, family_id)
    if found is None:
        raise NotFound(f"no family {family_id}")
    if found.moved_to is not None:
        # the new id is the family's own: not for a reader of another area either
        area = family_area(services, found.moved_to)
        require_area(services, principal, purpose, action, [area], [])
        return Moved(family_id, found.moved_to)
    assert found.state is not None  # a current family id has its projection
    p = FamilyProjection.from_dict(found.state)
    tokens = sorted({s.token for e in p.timeline for s in e.subjects})
    area = victim_area(p, services.areas).name
    require_area(services, principal, purpose, action, [area], tokens)
    return _view(services, services.policy, principal, purpose, p, datetime.now(UTC))


def _subject_family(
    services: HubContext, policy: PolicyPoint, principal: Principal, purpose: str, token: str
) -> SubjectFamily | None:
    family = family_id_of_token(services.engine, token)
    if family is None:
        return None
    held = events_naming(services.engine, token)
    decisions = policy.decide(principal, purpose, held)
    if not any(d.shared for d in decisions):
        return None  # the reader may see nothing about this person: as if unknown
    record_id = policy.audit(
        principal, purpose, f"GET /v1/subjects/{token}/family", decisions, [token],
        [d.hub_id for d in decisions if d.shared], ["family_id"],
    )  # fmt: skip
    return SubjectFamily(subject=token, family_id=family, audit_record_id=record_id)


def subject_family(
    services: HubContext, principal: Principal, purpose: str, token: str
) -> SubjectFamily:
    """The subject's current family id, when the reader may see an event naming them."""
    action = f"GET /v1/subjects/{token}/family"
    require_case_reader(services, principal, purpose, action, [token])
    require_subjects_in_area(services, principal, purpose, action, [token])
    found = _subject_family(services, services.policy, principal, purpose, token)
    if found is None:
        raise NotFound("the hub holds nothing about this subject that you may see")
    return found
