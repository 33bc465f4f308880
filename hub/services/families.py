"""The family view and a subject's family, decided event by event through the policy point
(hub/entrypoints/api/families.py says what each reader sees and why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from consent.decision import Decision
from consent.policy import MARAC_ROLES
from hub.adapters.sql.failed import needs_attention
from hub.adapters.sql.families import events_naming, family_id_of_token
from hub.adapters.sql.family_cache import CachedFamily
from hub.adapters.sql.principals import Principal
from hub.domain.areas import AreaBook, AreaSettings, victim_area
from hub.domain.family import Entry, FamilyProjection
from hub.domain.reports import window_counts
from hub.services.access import (
    family_area,
    require_area,
    require_case_reader,
    require_subjects_in_area,
)
from hub.services.context import HubContext
from hub.services.disclosure import Held, PolicyPoint
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
    """The family as this reader may see it, with the decisions that say so. The visible
    projection and the involvement-only list are built only when asked for (``split``): a
    reader whose view of the family is already kept (Shown) needs neither."""

    def __init__(
        self, p: FamilyProjection, decided: list[tuple[Entry, Decision]], held: dict[str, Held]
    ) -> None:
        self.held = held
        self._family = p
        self._shared = [(e, d) for e, d in decided if d.shared]
        self.refusals = {d.reason for _e, d in decided if not d.shared}
        # entries refused, and entries whose event is missing from the store
        self.withheld = len(p.timeline) - len(self._shared)
        self.decisions = [d for _e, d in decided]

    @cached_property
    def split(self) -> tuple[FamilyProjection, list[Involvement]]:
        """The projection of what the reader may see, and the items shown as involvement only."""
        shown: list[Entry] = []
        involvement: list[Involvement] = []
        for entry, decision in self._shared:
            seen = visible_entry(entry, decision)
            if seen is None:
                involvement.append(Involvement(
                    hub_id=entry.hub_id, type=entry.type, agency_id=entry.agency_id
                ))  # fmt: skip
            else:
                shown.append(seen)
        involvement.sort(key=lambda x: (x.agency_id, x.type, x.hub_id))
        p = self._family
        return FamilyProjection(p.family_id, tuple(shown), p.clock), involvement

    @property
    def projection(self) -> FamilyProjection:
        return self.split[0]

    @property
    def involvement(self) -> list[Involvement]:
        return self.split[1]

    def shared_tokens(self) -> list[str]:
        """Tokens of the people named by the events shared with the reader."""
        ids = {d.hub_id for d in self.decisions if d.shared}
        return sorted({t for i in ids if i in self.held for t in self.held[i].item.subjects})


def screen_family(
    services: HubContext, policy: PolicyPoint, principal: Principal, purpose: str,
    p: FamilyProjection,
) -> ScreenedFamily:  # fmt: skip
    """Decide every timeline entry on its stored event (its decision inputs: policy.held)."""
    held = policy.held(e.hub_id for e in p.timeline)
    entries = [e for e in p.timeline if e.hub_id in held]
    decisions = policy.decide_items(principal, purpose, [held[e.hub_id].item for e in entries])
    return ScreenedFamily(p, list(zip(entries, decisions, strict=True)), held)


@dataclass(frozen=True)
class Shown:
    """What a reader's visible projection shows (its views, its timeline as shown, its
    victim's area): derived once per stored version of the family and per what the reader
    may see of each entry, then kept with the family. Read only: it is shared."""

    views: dict[str, Any]
    timeline: list[dict[str, Any]]
    area: AreaSettings
    involvement: list[Involvement]
    # the last window counts worked out for it: (as of, local day, counts, next event time)
    counts: list[tuple[datetime, Any, dict[str, Any], datetime | None]] = field(
        default_factory=list, compare=False
    )


def counts_as_of(
    shown: Shown, visible: Callable[[], FamilyProjection], now: datetime
) -> dict[str, Any]:
    """window_counts(visible(), shown.area, now), reusing the last counts worked out for this
    visible projection while they cannot have moved: the same local day (so the same window)
    and no entry's event time passed since (an entry counts once its time is reached)."""
    if not shown.timeline:
        return {}
    day = shown.area.calendar.local_date(now)
    last = shown.counts[-1] if shown.counts else None
    if last is not None:
        at, at_day, counts, next_time = last
        if at_day == day and at <= now and (next_time is None or now < next_time):
            return {**counts, "as_of": now.isoformat()}
    family = visible()
    counts = window_counts(family, shown.area, now)
    next_time = min((e.time for e in family.timeline if e.time > now), default=None)
    shown.counts[:] = [(now, day, counts, next_time)]
    return counts


def _shown(seen: ScreenedFamily, book: AreaBook, kept: CachedFamily | None) -> Shown:
    # the visible projection is a function of the stored one and, per entry, of whether it
    # is shared and with which view and fields (visible_entry): the key holds exactly that
    key = ("shown", tuple((d.hub_id, d.shared, d.view, d.fields) for d in seen.decisions))
    found = kept.remembered(key) if kept is not None else None
    if isinstance(found, Shown):
        return found
    visible, involvement = seen.split
    views = visible.to_dict()
    shown = Shown(
        views, [_entry_out(e) for e in views.pop("timeline")], victim_area(visible, book),
        involvement,
    )  # fmt: skip
    if kept is not None:
        kept.remember(key, shown)
    return shown


def _view(
    services: HubContext, policy: PolicyPoint, principal: Principal, purpose: str,
    p: FamilyProjection, now: datetime, kept: CachedFamily | None = None,
) -> FamilyOut:  # fmt: skip
    """The family view for this reader, audited before it is returned (raises AuditError)."""
    seen = screen_family(services, policy, principal, purpose, p)
    shown = _shown(seen, services.areas, kept)
    views = shown.views
    counts = counts_as_of(shown, lambda: seen.projection, now)
    marac = principal.role in MARAC_ROLES
    shared = {d.hub_id for d in seen.decisions if d.shared}
    tokens = seen.shared_tokens()
    fields = sorted({f for d in seen.decisions if d.shared for f in d.fields})
    record_id = None
    if seen.decisions:
        record_id = policy.audit(
            principal, purpose, f"GET /v1/families/{p.family_id}", seen.decisions, tokens,
            sorted(shared), fields + (NAME_FIELDS if marac and shown.timeline else []),
        )  # fmt: skip
    members = {pid: dict(m) for pid, m in views["members"].items()}  # names are per reader
    if marac:
        names = services.vault.names(t for m in members.values() for t in m["tokens"])
        for m in members.values():
            m["names"] = {t: names[t] for t in m["tokens"] if t in names}
    return FamilyOut(
        family_id=p.family_id, members=members, relations=views["relations"],
        timeline=shown.timeline, involvement=shown.involvement,
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
    found = services.families.find(family_id)
    if found is None:
        raise NotFound(f"no family {family_id}")
    if found.moved_to is not None:
        # the new id is the family's own: not for a reader of another area either
        area = family_area(services, found.moved_to)
        require_area(services, principal, purpose, action, [area], [])
        return Moved(family_id, found.moved_to)
    assert found.current is not None  # a current family id has its projection
    kept = found.current
    p = kept.projection
    gate = kept.remembered("gate")  # whom and which area the family is about
    if gate is None:
        gate = (sorted({s.token for e in p.timeline for s in e.subjects}),
                victim_area(p, services.areas).name)  # fmt: skip
        kept.remember("gate", gate)
    tokens, area = gate
    require_area(services, principal, purpose, action, [area], tokens)
    return _view(services, services.policy, principal, purpose, p, datetime.now(UTC), kept)


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
