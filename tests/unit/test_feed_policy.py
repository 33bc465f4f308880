"""A recipient's feed never carries a field the sharing policy forbids it: for every agency
type and every kind of item, each field of the item is filled only when the policy's decision
for that agency shares the source field it comes from (generated like test_policy's
role x type test). And routing: each notice goes to whoever must act, and only to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consent.decision import Decision, Recipient, decide_disclosure
from consent.policy import load_policy
from hub.contract import EVENT_TYPES
from hub.domain.agencies import load_agency_types
from hub.domain.alerts import StoredAlert
from hub.domain.events import CanonicalEvent, SubjectRef
from hub.domain.feed import (
    FEED_PURPOSE,
    ITEM_FIELDS,
    FamilyFacts,
    FeedReader,
    Route,
    build_item,
    event_routes,
    notice_route,
)
from hub.domain.rules.base import alert_id
from hub.services.disclosure import PolicyPoint, item_of

AGENCY_TYPES = load_agency_types()
POLICY = load_policy(None, EVENT_TYPES, AGENCY_TYPES)
AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
READER = "TEST-READER-A"
VICTIM, PERP, CHILD = (
    SubjectRef("st_testvictim", "victim"), SubjectRef("st_testperp", "perpetrator"),
    SubjectRef("st_testchild", "child", school=READER),
)  # fmt: skip


def event(hub_id: str, type_: str, agency: str, data: dict[str, Any], *subjects: SubjectRef,
          basis: str = "ukgdpr-6-1-e") -> CanonicalEvent:  # fmt: skip
    return CanonicalEvent(
        hub_id=hub_id, source_id=hub_id, agency_id=agency, agency_type="police", type=type_,
        time=AT, recorded_at=AT, lawful_basis=basis, consent_ref=None,
        subjects=subjects or (VICTIM, PERP), data=data,
    )  # fmt: skip


HEARING = event("TEST-HEARING", "marac.case_heard", "TEST-MARAC-A", {
    "meeting_date": "2026-03-10", "area": "TEST-AREA", "repeat": False, "risk_discussed": "high",
    "agencies_present": [READER],
    "actions": [{"action": "flag_files", "owner_agency": READER, "text": "TEST flag",
                 "due_date": "2026-03-12"}],
})  # fmt: skip
UPDATE = event(
    "TEST-UPDATE",
    "marac.action.updated",
    READER,
    {"action_id": "TEST-HEARING.1", "state": "not_possible", "reason": "TEST reason"},
)
REFERRAL = event(
    "TEST-REFERRAL",
    "referral.made",
    "TEST-POLICE-A",
    {"to": "marac", "concern": {"$enc": "sealed"}, "consent_status": "given"},
)
INCIDENT = event(
    "TEST-INCIDENT", "police.incident", "TEST-POLICE-A",
    {"abuse_types": ["physical"], "children_present": True, "children_ages": [7],
     "circumstances": {"$enc": "sealed"}},
    VICTIM, PERP, CHILD, basis="dpa2018-part3",
)  # fmt: skip
ROUTES = [
    Route("action", "action:TEST-HEARING.1", "v", "f_test", "owner", ("TEST-HEARING",),
          {"n": 1, "action_id": "TEST-HEARING.1"}),
    Route("action", "action:TEST-HEARING.1", "v", "f_test", "owner",
          ("TEST-HEARING", "TEST-UPDATE"), {"n": 1, "action_id": "TEST-HEARING.1"}),
    Route("hearing", "hearing:TEST-HEARING", "v", "f_test", "involved", ("TEST-HEARING",)),
    Route("listed_for_marac", "listed:TEST-REFERRAL", "v", "f_test", "csc", ("TEST-REFERRAL",)),
    Route("notice", "notice:n1", "1", "f_test", "school", ("TEST-INCIDENT",),
          {"rule": "children_present", "due": None, "only_tokens": ("st_testchild",)}),
    Route("notice", "notice:n2", "1", "f_test", "x", ("TEST-REFERRAL",),
          {"rule": "first_contact_overdue", "due": None}),
    Route("notice", "notice:n3", "1", "f_test", "owner", ("TEST-HEARING",),
          {"rule": "action_overdue", "due": None}),
]  # fmt: skip
EVENTS = {e.hub_id: e for e in (HEARING, UPDATE, REFERRAL, INCIDENT)}


class _OpenCipher:
    def reveal(self, _hub_id: str, allowed: dict[str, Any]) -> dict[str, Any]:
        return dict(allowed)


VIEWER = PolicyPoint(None, POLICY, _OpenCipher(), None)  # type: ignore[arg-type]


def decision(role: str, e: CanonicalEvent) -> Decision:
    return decide_disclosure(item_of(e), Recipient("TEST", role, READER), FEED_PURPOSE, POLICY,
                             {}, AT)  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.kind}-{len(r.sources)}-{r.item_id}")
@pytest.mark.parametrize("agency_type", sorted(AGENCY_TYPES))
def test_a_feed_item_never_carries_a_field_the_policy_forbids(
    agency_type: str, route: Route
) -> None:
    decisions = [decision(agency_type, EVENTS[h]) for h in route.sources]
    if not all(d.shared for d in decisions):
        return  # the service withholds it (counted), nothing is built
    views = [VIEWER.view(EVENTS[h], d) for h, d in zip(route.sources, decisions, strict=True)]
    item = build_item(route, views)
    for key, (source, name) in ITEM_FIELDS[route.kind].items():
        if item.get(key) is not None and not (route.kind == "action" and key == "state"):
            assert name in decisions[source].fields, (key, name, decisions[source].view)
    if item["people"]:
        assert "subjects" in decisions[0].fields
    if item["time"] is not None:
        assert "time" in decisions[-1].fields or "time" in decisions[0].fields
    shown = str(item)
    for never in ("sealed", "circumstances", "concern", "children_ages", "physical"):
        assert never not in shown  # sealed content and incident detail: never in a feed


def test_the_school_is_told_of_its_pupil_only() -> None:
    d = decision("education", INCIDENT)
    assert d.view == "occurrence"
    item = build_item(ROUTES[4], [VIEWER.view(INCIDENT, d)])
    assert item["people"] == [{"token": "st_testchild", "role": "child"}]


FACTS = FamilyFacts("f_test", "TEST-AREA", frozenset({"TEST-POLICE-A"}),
                    frozenset({"TEST-CSC-A", "TEST-IDVA-A"}), True,
                    {"TEST-HEARING.1": READER})  # fmt: skip


# agencies of the area (CSC-A, IDVA-A), the owner and school (READER), one outside the area
READERS = [
    (READER, "education"), (READER, "police"), ("TEST-CSC-A", "childrens_social_care"),
    ("TEST-IDVA-A", "idva"), ("TEST-OTHER-A", "childrens_social_care"),
    ("TEST-OTHER-A", "education"), ("TEST-OTHER-A", "idva"),
]  # fmt: skip


def alert(rule: str, key: str, triggers: tuple[str, ...]) -> StoredAlert:
    return StoredAlert(
        alert_id(rule, key), rule, "f_test", "TEST-AREA", "st_testvictim", (), (), triggers, AT,
        AT, AT, "TEST reason", "TEST action", None, None, "new", {}, 1,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "key", "triggers", "told"),
    [
        ("children_present", "TEST-INCIDENT", (INCIDENT,),
         {(READER, "education"), ("TEST-CSC-A", "childrens_social_care")}),
        ("first_contact_overdue", "TEST-REFERRAL",
         (event("TEST-R2", "referral.made", "TEST-POLICE-A", {"to": "community_idva"}),),
         {("TEST-IDVA-A", "idva")}),
        ("action_overdue", "TEST-HEARING.1", (HEARING,),
         {(READER, "police"), (READER, "education")}),
    ],
)  # fmt: skip
def test_a_notice_goes_to_whoever_must_act(
    rule: str, key: str, triggers: tuple[CanonicalEvent, ...], told: set[tuple[str, str]]
) -> None:
    got = {
        (a, t) for a, t in READERS
        if notice_route(FeedReader(a, t, AGENCY_TYPES[t].receives), FACTS,
                        alert(rule, key, tuple(e.hub_id for e in triggers)), triggers)
    }  # fmt: skip
    assert got == told


def test_an_update_from_another_agency_is_not_its_owners_news() -> None:
    owner = FeedReader(READER, "police")
    assert [r.kind for r in event_routes(owner, FACTS, UPDATE, HEARING)] == ["action"]
    other = FeedReader("TEST-OTHER-A", "police")
    assert event_routes(other, FACTS, UPDATE, HEARING) == []
    assert [r.kind for r in event_routes(other, FACTS, HEARING)] == []  # not involved
