"""The Marac meeting's records: a chair or coordinator records a hearing with its actions
(stored as ``marac.case_heard`` written by that person, hub/domain/hearings.py), and reads
the actions of the area's hearings with their state (hub/domain/family/actions.py).

Recording checks what ingress checks of an agency's marac.case_heard (the same payload
model, hub.contract.payloads.MaracHearing; no date in the future) and, as every decision
taken in the hub, is audited before it is stored (AuditError and nothing stored if the audit
log cannot be written). The area is the family's, never the form's: a chair bound to an area
records hearings of that area's families only (refused and audited otherwise).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.adapters.kafka import topics
from hub.adapters.sql.agenda import hearings_in_area
from hub.adapters.sql.families import family_id_of_token, find_family
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry, errors_from
from hub.contract.payloads import MaracHearing
from hub.domain.areas import AreaSettings, victim_area
from hub.domain.family import FamilyProjection, TrackedAction, tracked_actions
from hub.domain.hearings import hearing_hash, recorded_hearing
from hub.services.access import area_in_scope, marac_only, require_area
from hub.services.context import HubContext
from hub.services.errors import Conflict, NotFound, Unusable


class HearingRecorded(BaseModel):
    hub_id: str
    family_id: str
    meeting_date: date
    action_ids: list[str]
    duplicate: bool


def _family(services: HubContext, family_id: str) -> FamilyProjection:
    found = find_family(services.engine, family_id)
    if found is None or found.state is None:
        merged = "" if found is None else f" (it is now part of family {found.moved_to})"
        raise NotFound(f"no family {family_id}{merged}")
    return FamilyProjection.from_dict(found.state)


def _people(p: FamilyProjection, victim_token: str) -> list[str]:
    """The perpetrators named with the victim (tokens); Unusable if the token is not a victim
    of the family."""
    victim_person = next(
        (s.person_id for e in p.timeline for s in e.subjects
         if s.token == victim_token and s.role == "victim"),
        None,
    )  # fmt: skip
    if victim_person is None:
        msg = "name a victim of this family (the case the meeting heard)"
        raise Unusable(msg, [error_entry(("body", "victim_token"), msg, "value_error")])
    return sorted({
        s.token for e in p.timeline if not e.internal and e.names(victim_person, "victim")
        for s in e.subjects if s.role == "perpetrator"
    })  # fmt: skip


def _future(raw: Any, area: AreaSettings, now: datetime) -> list[dict[str, Any]]:
    try:
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        return []  # not a date: the schema says so
    if day <= area.calendar.local_date(now):
        return []
    msg = "the meeting date is in the future: record a hearing on or after the meeting"
    return [error_entry(("body", "meeting_date"), msg, "future_dated")]


def _checked(form: dict[str, Any], area: AreaSettings, now: datetime) -> MaracHearing:
    """The hearing as ingress checks an agency's (the same model), every problem at once."""
    errors = _future(form.get("meeting_date"), area, now)
    hearing = None
    try:
        hearing = MaracHearing.model_validate({**form, "area": area.name})
    except ValidationError as exc:
        errors += errors_from(exc.errors(include_input=False), ("body",))
    if errors or hearing is None:
        raise Unusable("; ".join(f"{e['path']}: {e['msg']}" for e in errors), errors)
    return hearing


def record_hearing(
    services: HubContext, principal: Principal, purpose: str, family_id: str,
    victim_token: str, form: dict[str, Any],
) -> HearingRecorded:  # fmt: skip
    """Check, audit and store the hearing; raises NotFound, Forbidden, Unusable, Conflict,
    or AuditError (nothing stored)."""
    marac_only(principal, "record a Marac hearing")
    action = f"POST /meeting/cases/{family_id}/hearing"
    p = _family(services, family_id)
    area = victim_area(p, services.areas)
    tokens = sorted({s.token for e in p.timeline for s in e.subjects})
    require_area(services, principal, purpose, action, [area.name], tokens)
    perpetrators = _people(p, victim_token)
    now = datetime.now(UTC)
    hearing = _checked(form, area, now)
    heard_at = (
        now if hearing.meeting_date == area.calendar.local_date(now)
        else area.calendar.at_local(hearing.meeting_date, time(12, 0))
    )  # fmt: skip
    event = recorded_hearing(
        victim_token, perpetrators, hearing.model_dump(mode="json"), principal.principal_id,
        principal.role, heard_at, now,
    )  # fmt: skip
    services.policy.audit(
        principal, purpose, action, [], [victim_token, *perpetrators], [event.hub_id],
        sorted(MaracHearing.model_fields), "hearing recorded",
    )  # fmt: skip
    result = services.ingress.store.append(
        event, hearing_hash(event), services.settings.topic(topics.EVENTS)
    )
    if not result.stored and not result.same_content:
        raise Conflict(
            f"a hearing of this case on {hearing.meeting_date} is already recorded, with other "
            "details; the record stands as first made"
        )
    return HearingRecorded(
        hub_id=event.hub_id, family_id=family_id, meeting_date=hearing.meeting_date,
        action_ids=[f"{event.hub_id}.{n}" for n in range(1, len(hearing.actions) + 1)],
        duplicate=not result.stored,
    )  # fmt: skip


# --- the actions of an area's hearings -------------------------------------------------------


class ActionOut(BaseModel):
    action_id: str
    family_id: str
    victim_token: str | None
    meeting_date: str | None
    owner_agency: str
    action: str
    text: str | None
    due_date: str | None
    state: str  # open | in_progress | done | not_possible
    overdue: bool
    reason: str | None
    history: list[dict[str, Any]]


class ActionsList(BaseModel):
    area: str
    meeting_date: date | None
    agency: str | None
    meetings: list[str]  # every meeting date of the area with a hearing, newest first
    agencies: list[str]  # every agency owning an action of the area
    actions: list[ActionOut]
    withheld: int
    audit_record_id: str | None


def _out(family_id: str, a: TrackedAction, token: str | None, today: date) -> ActionOut:
    return ActionOut(
        action_id=a.action_id, family_id=family_id, victim_token=token,
        meeting_date=a.meeting_date, owner_agency=a.owner_agency, action=a.type, text=a.text,
        due_date=a.due_date, state=a.state, overdue=a.overdue(today), reason=a.reason,
        history=[dict(h) for h in a.history],
    )  # fmt: skip


def area_actions(
    services: HubContext, principal: Principal, purpose: str, area: str | None,
    meeting_date: date | None, agency: str | None,
) -> ActionsList:  # fmt: skip
    """The actions of the area's hearings (of one meeting, of one owning agency), each shown
    only when the reader may see its hearing and every update of it; audited first."""
    marac_only(principal, "read Marac actions")
    scoped = area_in_scope(principal, area)
    if scoped is None:
        msg = "give the Marac area, e.g. ?area=default"
        raise Unusable(msg, [error_entry(("query", "area"), msg, "missing")])
    settings = services.areas.get(scoped)
    today = settings.calendar.local_date(datetime.now(UTC))
    heard = hearings_in_area(services.engine, scoped)
    meetings = sorted({str(h.data.get("meeting_date")) for h in heard}, reverse=True)
    families = dict.fromkeys(
        f for h in heard if (f := family_id_of_token(services.engine, h.victim_token))
    )
    found: list[tuple[str, TrackedAction]] = []
    for fid in families:
        p = _family(services, fid)
        found += [(fid, a) for a in tracked_actions(p) if a.area == scoped]
    owners = sorted({a.owner_agency for _f, a in found})
    wanted = [
        (fid, a) for fid, a in found
        if (meeting_date is None or a.meeting_date == meeting_date.isoformat())
        and (agency is None or a.owner_agency == agency)
    ]  # fmt: skip
    return _disclosed(
        services, principal, purpose, scoped, meeting_date, agency, meetings, owners, wanted, today
    )


def _disclosed(
    services: HubContext, principal: Principal, purpose: str, area: str,
    meeting_date: date | None, agency: str | None, meetings: list[str], owners: list[str],
    wanted: list[tuple[str, TrackedAction]], today: date,
) -> ActionsList:  # fmt: skip
    store, policy = services.ingress.store, services.policy
    shown, decisions = [], []
    for fid, a in wanted:
        ids = [str(h["event"]) for h in a.history]  # the hearing, then each update
        held = [e for i in ids if (e := store.get(i)) is not None]
        verdicts = policy.decide(principal, purpose, held)
        if held and all(d.shared for d in verdicts):
            token = next((s.token for s in held[0].subjects if s.role == "victim"), None)
            shown.append(_out(fid, a, token, today))
            decisions += verdicts
    record_id = None
    if shown:
        query = f"area={area}" + (f"&meeting_date={meeting_date}" if meeting_date else "") + (
            f"&agency={agency}" if agency else ""
        )  # fmt: skip
        record_id = policy.audit(
            principal, purpose, f"GET /meeting/actions?{query}", decisions,
            sorted({a.victim_token for a in shown if a.victim_token}),
            sorted({d.hub_id for d in decisions}), sorted(ActionOut.model_fields),
        )  # fmt: skip
    return ActionsList(
        area=area, meeting_date=meeting_date, agency=agency, meetings=meetings,
        agencies=owners, actions=shown, withheld=len(wanted) - len(shown),
        audit_record_id=record_id,
    )  # fmt: skip
