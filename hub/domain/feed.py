"""What flows back to agencies (issue 15, section 2): who must act on what.

Two steps, both pure. **Routing** says which items are addressed to a reader (an agency:
its id, type and the referral destinations it receives), from the stored events and the
family they belong to, before the policy has spoken:

- action (from a hearing, and each update its owner applied): the owning agency;
- hearing: agencies involved in the family, present at the hearing or owning one of its
  actions; children's social care of the area when the case has children;
- listed_for_marac (a referral to Marac): children's social care of the area, when the case
  has children;
- notice children_present: the school a child of the incident names; children's social care
  of the area;
- notice first_contact_overdue: the area's agencies that receive referrals of that kind;
- notice action_overdue: the owning agency.

"Of the area" means listed in the area's ``agencies`` or involved in the family.

**Building** fills an item only from the views the policy point let the reader see
(``PolicyPoint.view``: allowed fields only); ``ITEM_FIELDS`` names, per kind, which item
field comes from which source field, so a test can hold every item to the policy's
decisions. Words of a notice are fixed per rule, never the alert's reason (which quotes
facts the reader may not be allowed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.alerts import StoredAlert
from hub.domain.areas import AreaSettings
from hub.domain.events import CanonicalEvent
from hub.domain.family import FamilyProjection, agencies, persons_in_role, tracked_actions
from hub.domain.rules.base import alert_id

FEED_PURPOSE = "safeguarding_follow_up"
CSC, EDUCATION = "childrens_social_care", "education"
# stored event types an item is routed from (notices come from alerts)
FEED_EVENT_TYPES = (
    EventType.MARAC_CASE_HEARD, EventType.MARAC_ACTION_UPDATED, EventType.REFERRAL_MADE,
)  # fmt: skip
NOTICE_RULES = ("children_present", "first_contact_overdue", "action_overdue")

# Plain words of each notice: (what it is about, what to do). Fixed per rule: an alert's own
# reason quotes facts (children's ages, agencies) the recipient may not be allowed to see.
NOTICE_WORDS = {
    "children_present": (
        "Operation Encompass: a domestic-abuse incident was recorded with a child in the household",
        "Make sure the child's key adult knows before the next school day starts (by 'due'); "
        "children's social care: consider the child's needs.",
    ),
    "first_contact_overdue": (
        "A referral to your service has no contact attempt recorded within the working days "
        "the area expects",
        "Make a first contact attempt now, or record the one made (contact.attempted).",
    ),
    "action_overdue": (
        "A Marac action your agency owns is past its due date and not finished",
        "Record progress on the action (marac.action.updated: in progress, done, or not "
        "possible with the reason).",
    ),
}


@dataclass(frozen=True)
class FeedReader:
    agency_id: str
    agency_type: str
    receives: frozenset[str] = frozenset()  # referral destinations it is the service for


@dataclass(frozen=True)
class FamilyFacts:
    """What routing needs to know of a family."""

    family_id: str
    area: str
    involved: frozenset[str]  # agency ids that sent events about the family
    area_agencies: frozenset[str]
    has_children: bool
    action_owners: Mapping[str, str]  # action id -> owning agency

    def in_reach(self, agency_id: str) -> bool:
        return agency_id in self.involved or agency_id in self.area_agencies


def family_facts(p: FamilyProjection, area: AreaSettings) -> FamilyFacts:
    children = bool(persons_in_role(p, "child")) or any(
        e.type == EventType.POLICE_INCIDENT and e.facts.get("children_present") for e in p.timeline
    )
    return FamilyFacts(
        family_id=p.family_id,
        area=area.name,
        involved=frozenset(a["agency_id"] for a in agencies(p)),
        area_agencies=frozenset(area.agencies),
        has_children=children,
        action_owners={a.action_id: a.owner_agency for a in tracked_actions(p)},
    )


@dataclass(frozen=True)
class Route:
    """An item addressed to the reader: built from ``sources`` if the policy shares them all."""

    kind: str
    item_id: str
    version: str
    family_id: str
    why: str
    sources: tuple[str, ...]  # hub ids, the first being the item's main event
    extra: Mapping[str, Any] = field(default_factory=dict)  # routing facts, not content


def _actions(hearing: CanonicalEvent) -> list[dict[str, Any]]:
    return [a for a in hearing.data.get("actions", ()) if isinstance(a, dict)]


def _hearing_routes(r: FeedReader, f: FamilyFacts, e: CanonicalEvent) -> list[Route]:
    owned = [
        (n, f"{e.hub_id}.{n}") for n, a in enumerate(_actions(e), 1)
        if a.get("owner_agency") == r.agency_id
    ]  # fmt: skip
    out = [
        Route("action", f"action:{aid}", e.hub_id, f.family_id, "owner", (e.hub_id,),
              {"n": n, "action_id": aid})
        for n, aid in owned
    ]  # fmt: skip
    present = r.agency_id in e.data.get("agencies_present", ())
    why = (
        None if e.agency_id == r.agency_id and not owned  # it recorded the hearing itself
        else "owner" if owned else "present" if present else "involved" if r.agency_id in f.involved
        else CSC if r.agency_type == CSC and f.has_children and f.in_reach(r.agency_id)
        else None
    )  # fmt: skip
    if why is not None:
        extra = {"your_actions": [aid for _n, aid in owned]}
        out.append(Route("hearing", f"hearing:{e.hub_id}", e.hub_id, f.family_id, why,
                         (e.hub_id,), extra))  # fmt: skip
    return out


def _update_route(
    r: FeedReader, f: FamilyFacts, e: CanonicalEvent, hearing: CanonicalEvent | None
) -> list[Route]:
    aid = e.data.get("action_id")
    if hearing is None or not isinstance(aid, str) or e.agency_id != r.agency_id:
        return []
    n = int(aid.rsplit(".", 1)[1])
    acts = _actions(hearing)
    if n > len(acts) or acts[n - 1].get("owner_agency") != r.agency_id:
        return []  # not its action: the hub does not apply the update either
    return [Route("action", f"action:{aid}", e.hub_id, f.family_id, "owner",
                  (hearing.hub_id, e.hub_id), {"n": n, "action_id": aid})]  # fmt: skip


def _listed_route(r: FeedReader, f: FamilyFacts, e: CanonicalEvent) -> list[Route]:
    if (
        e.data.get("to") != "marac" or r.agency_type != CSC or not f.has_children
        or not f.in_reach(r.agency_id)
    ):  # fmt: skip
        return []
    return [Route("listed_for_marac", f"listed:{e.hub_id}", e.hub_id, f.family_id, CSC,
                  (e.hub_id,))]  # fmt: skip


def event_routes(
    r: FeedReader, f: FamilyFacts, e: CanonicalEvent, hearing: CanonicalEvent | None = None
) -> list[Route]:
    """The items a stored event addresses to the reader (``hearing``: the hearing an
    action update refers to)."""
    if e.type == EventType.MARAC_CASE_HEARD:
        return _hearing_routes(r, f, e)
    if e.type == EventType.MARAC_ACTION_UPDATED:
        return _update_route(r, f, e, hearing)
    if e.type == EventType.REFERRAL_MADE:
        return _listed_route(r, f, e)
    return []


def _notice_why(
    r: FeedReader, f: FamilyFacts, a: StoredAlert, triggers: Sequence[CanonicalEvent]
) -> str | None:
    if a.rule == "children_present":
        schools = {s.school for e in triggers for s in e.subjects if s.role == "child"}
        if r.agency_type == EDUCATION and r.agency_id in schools:
            return "school"
        return CSC if r.agency_type == CSC and f.in_reach(r.agency_id) else None
    if a.rule == "first_contact_overdue":
        to = {e.data.get("to") for e in triggers if e.type == EventType.REFERRAL_MADE}
        if to & r.receives and r.agency_id in f.area_agencies:
            return "service_referred_to"
        return None
    if a.rule == "action_overdue":
        owner = next(
            (o for aid, o in f.action_owners.items() if alert_id(a.rule, aid) == a.alert_id), None
        )
        return "owner" if owner == r.agency_id else None
    return None


def notice_route(
    r: FeedReader, f: FamilyFacts, a: StoredAlert, triggers: Sequence[CanonicalEvent]
) -> Route | None:
    """The notice an alert addresses to the reader, if any; its sources are the alert's
    agency events (the hub's own, e.g. clock ticks, hold nothing an agency shared)."""
    if a.rule not in NOTICE_RULES:
        return None
    why = _notice_why(r, f, a, triggers)
    held = tuple(e.hub_id for e in triggers if e.agency_type != "hub")
    if why is None or not held:
        return None
    extra: dict[str, Any] = {"rule": a.rule, "due": a.due}
    if a.rule == "children_present" and why == "school":
        extra["only_tokens"] = tuple(
            s.token for e in triggers for s in e.subjects
            if s.role == "child" and s.school == r.agency_id
        )  # fmt: skip
    return Route("notice", f"notice:{a.alert_id}", str(a.revision), f.family_id, why, held, extra)


# --- building an item from the views the policy allowed --------------------------------------

# item field -> (index of the source among route.sources, data field of that source); "-1" is
# the last source (an action's update). People and time come from the main source's
# "subjects" and "time", which the policy allows or not like any field.
ITEM_FIELDS: dict[str, dict[str, tuple[int, str]]] = {
    "action": {
        "meeting_date": (0, "meeting_date"), "area": (0, "area"),
        "action": (0, "actions"), "text": (0, "actions"), "due_date": (0, "actions"),
        "owner_agency": (0, "actions"), "state": (-1, "state"), "reason": (-1, "reason"),
    },
    "hearing": {
        "meeting_date": (0, "meeting_date"), "area": (0, "area"), "repeat": (0, "repeat"),
        "risk_discussed": (0, "risk_discussed"), "agencies_present": (0, "agencies_present"),
    },
    "listed_for_marac": {"referred_to": (0, "to")},
    "notice": {},
}  # fmt: skip
ACTION_KEYS = ("action", "text", "due_date", "owner_agency")


def _value(views: Sequence[Mapping[str, Any]], where: tuple[int, str]) -> Any:
    return views[where[0]].get("data", {}).get(where[1])


def build_item(route: Route, views: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The item as a FeedItem's fields, from the views of route.sources (same order)."""
    main = views[0]
    people = [
        {"token": s["token"], "role": s["role"]} for s in main.get("subjects", ())
        if "only_tokens" not in route.extra or s["token"] in route.extra["only_tokens"]
    ]  # fmt: skip
    item: dict[str, Any] = {
        "item_id": route.item_id, "kind": route.kind, "version": route.version,
        "family_id": route.family_id, "why": route.why, "time": main.get("time"),
        "people": people, "source_events": list(route.sources),
    }  # fmt: skip
    for key, where in ITEM_FIELDS[route.kind].items():
        item[key] = _value(views, where)
    if route.kind == "action":
        _fill_action(item, route, views)
    elif route.kind == "hearing":
        item["hearing_id"] = route.sources[0]
        item["your_actions"] = list(route.extra.get("your_actions", ()))
    elif route.kind == "notice":
        what, todo = NOTICE_WORDS[str(route.extra["rule"])]
        item.update(rule=route.extra["rule"], notice=what, recommended_action=todo,
                    due=route.extra.get("due"))  # fmt: skip
    return item


def _fill_action(item: dict[str, Any], route: Route, views: Sequence[Mapping[str, Any]]) -> None:
    acts = item.pop("action") or []
    n = int(route.extra["n"])
    agreed = acts[n - 1] if isinstance(acts, list) and len(acts) >= n else {}
    for key in ACTION_KEYS:
        item[key] = agreed.get(key) if isinstance(agreed, dict) else None
    item["action_id"] = route.extra["action_id"]
    item["hearing_id"] = route.sources[0]
    if len(route.sources) == 1:  # as agreed at the hearing
        item["state"], item["reason"] = "open", None
    elif len(views) > 1 and "time" in views[-1]:
        item["time"] = views[-1]["time"]
