"""An agency's feed: what it must act on (hub/domain/feed.py routes it), through the policy
point and audited like any read (docs/feed.md).

The cursor is ``f1.<event seq>.<alert revision>``: items from stored events (actions,
hearings, cases listed for Marac) follow the store's order, read only as far as the
projector has settled it (hub/adapters/sql/feed.py); notices follow the alerts' revisions,
as the live alert stream does. An item is told again when it changes (an action moved on,
an alert updated), with the same ``item_id`` and a new ``version``. Both parts survive a
replay of the store: events keep their seq, and an alert the replay finds unchanged keeps its
revision (hub.pipeline.replay), so nothing is told again. Every item is decided on its
source events for the purpose ``safeguarding_follow_up``: one the policy does not share in
full is withheld (counted).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from consent.decision import Decision
from hub.adapters.sql.alerts import AlertQuery, changes_since
from hub.adapters.sql.families import family_id_of_token, find_family
from hub.adapters.sql.feed import settled_events
from hub.adapters.sql.principals import Principal
from hub.contract.feed import FeedItem, FeedPage
from hub.contract.parse import error_entry
from hub.contract.vocabulary import EventType
from hub.domain.areas import victim_area
from hub.domain.events import CanonicalEvent, primary_token
from hub.domain.family import FamilyProjection
from hub.domain.feed import (
    FEED_EVENT_TYPES,
    FEED_PURPOSE,
    FamilyFacts,
    FeedReader,
    Route,
    build_item,
    event_routes,
    family_facts,
    notice_route,
)
from hub.services.context import HubContext
from hub.services.errors import Forbidden, Unusable

CURSOR = re.compile(r"^f1\.(\d{1,19})\.(\d{1,19})$")
START = "f1.0.0"


def parse_cursor(raw: str | None) -> tuple[int, int]:
    """(event seq, alert revision) of a cursor; Unusable with what to send instead."""
    m = CURSOR.match(raw or START)
    if m is None:
        msg = "give the cursor of your last page as it was (f1.<n>.<n>), or none to start"
        raise Unusable(msg, [error_entry(("query", "cursor"), msg, "value_error")])
    return int(m[1]), int(m[2])


def reader_of(services: HubContext, principal: Principal) -> FeedReader:
    """The agency the feed is for: an agency system's key only (people read their pages)."""
    if principal.kind != "agency_system" or principal.agency_id is None:
        raise Forbidden("the feed is an agency system's: read it with your agency system's API key")
    kind = services.ingress.agency_types.get(principal.role)
    receives = kind.receives if kind is not None else frozenset()
    return FeedReader(principal.agency_id, principal.role, receives)


@dataclass
class _Page:
    routes: list[Route] = field(default_factory=list)
    events: dict[str, CanonicalEvent] = field(default_factory=dict)
    families: dict[str, FamilyFacts | None] = field(default_factory=dict)


def _facts(services: HubContext, page: _Page, family_id: str | None) -> FamilyFacts | None:
    if family_id is None:
        return None
    if family_id not in page.families:
        found = find_family(services.engine, family_id)
        facts = None
        if found is not None and found.state is not None:
            p = FamilyProjection.from_dict(found.state)
            facts = family_facts(p, victim_area(p, services.areas))
        page.families[family_id] = facts
    return page.families[family_id]


def _event(services: HubContext, page: _Page, hub_id: str) -> CanonicalEvent | None:
    if hub_id not in page.events:
        found = services.ingress.store.get(hub_id)
        if found is None:
            return None
        page.events[hub_id] = found
    return page.events[hub_id]


def _from_events(
    services: HubContext, page: _Page, r: FeedReader, evs: Sequence[CanonicalEvent]
) -> None:
    for e in evs:
        page.events[e.hub_id] = e
        fid = family_id_of_token(services.engine, primary_token(e.subjects))
        facts = _facts(services, page, fid)
        if facts is None:
            continue
        hearing = None
        if e.type == EventType.MARAC_ACTION_UPDATED:
            hearing = _event(services, page, str(e.data.get("action_id", "")).rsplit(".", 1)[0])
        page.routes += event_routes(r, facts, e, hearing)


def _from_alerts(
    services: HubContext, page: _Page, r: FeedReader, after: int, limit: int
) -> tuple[int, bool]:
    """Notices from alerts changed after revision ``after``: (revision read up to, whether
    a full page was read)."""
    changed, upto = changes_since(services.engine, after, AlertQuery(limit=limit))
    for a in changed:
        facts = _facts(services, page, a.family_id)
        triggers = [e for i in a.triggering_event_ids if (e := _event(services, page, i))]
        route = notice_route(r, facts, a, triggers) if facts is not None else None
        if route is not None:
            page.routes.append(route)
    return upto, len(changed) >= limit


def feed_page(
    services: HubContext, principal: Principal, cursor: str | None, limit: int,
    action: str = "GET /v1/feed",
) -> FeedPage:  # fmt: skip
    """The next page of the agency's feed after ``cursor``, each item shown only when the
    policy shares every event it is built from; audited before it is returned (AuditError
    and nothing returned if it cannot be)."""
    r = reader_of(services, principal)
    seq, rev = parse_cursor(cursor)
    page = _Page()
    found, next_seq, more_events = settled_events(
        services.engine, seq, FEED_EVENT_TYPES, scan=max(limit * 20, 200)
    )
    _from_events(services, page, r, [e for _s, e in found])
    next_rev, more_alerts = _from_alerts(services, page, r, rev, limit)
    return _disclosed(services, principal, page, f"f1.{next_seq}.{next_rev}",
                      more_events or more_alerts, action)  # fmt: skip


def _disclosed(
    services: HubContext, principal: Principal, page: _Page, cursor: str, more: bool,
    action: str,
) -> FeedPage:  # fmt: skip
    policy = services.policy
    wanted = sorted({h for route in page.routes for h in route.sources})
    held = [page.events[h] for h in wanted if h in page.events]
    decided: dict[str, Decision] = {
        d.hub_id: d for d in policy.decide(principal, FEED_PURPOSE, held)
    }
    items, decisions, withheld = [], [], 0
    for route in page.routes:
        verdicts = [decided.get(h) for h in route.sources]
        if not all(v is not None and v.shared for v in verdicts):
            withheld += 1
            continue
        views = [policy.view(page.events[h], decided[h]) for h in route.sources]
        items.append(FeedItem.model_validate(build_item(route, views)))
        decisions += [v for v in verdicts if v is not None]
    record_id = None
    if items:
        record_id = policy.audit(
            principal, FEED_PURPOSE, action, decisions,
            sorted({p.token for i in items for p in i.people}),
            sorted({i.item_id for i in items}), sorted(FeedItem.model_fields),
        )  # fmt: skip
    return FeedPage(
        items=items, cursor=cursor, more=more, withheld=withheld, audit_record_id=record_id
    )
