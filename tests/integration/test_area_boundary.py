"""The area boundary, role x route x area, generated from the app's routes: for every route
that shows or changes a person's data, a Marac chair or coordinator bound to another area is
refused (403, or the other area's things left out of a list), the refusal of a named person,
family, match, alert or request is audited, and the same call by a reader of the area itself
is let through (so the refusal is the boundary's, not a malformed request's).

A new route fails the test until it gets a case here (or an exemption saying why).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hub.contract.examples import EXAMPLES
from tests import builders as b
from tests.integration.conftest import Api
from tests.integration.test_disclosure_api import NOT_PERSONAL, app_routes
from tests.processing import process_stored

HOME, AWAY = "TEST-AREA", "TEST-AREA-SOUTH"  # TEST-AREA lists the TEST-…-A agencies
ROLES = ("marac_chair", "marac_coordinator")
EXEMPT = {
    # route: why no principal of another area can reach a person's data through it
    **{
        ("GET", f"/v1/ig/{path}"): "IG officers only (bound to no area); Marac roles refused"
        for path in (
            "disclosures",
            "subjects/{token}/report",
            "overrides",
            "outside-case",
            "anomalies",
        )
    },
    ("GET", "/v1/feed"): "agency systems only (people, Marac roles included, get 403); what "
    "reaches an agency is routed to it (owner, involved, listed in the family's area), "
    "tests/integration/test_feed.py",
    # The IG officer's pages: IG officers are bound to no area, Marac roles are refused
    # (tests/integration/test_web_ig_pages.py audits each refusal).
    **{
        (method, path): "IG officers only (bound to no area); Marac roles refused"
        for method, path in (
            ("GET", "/ig"),
            ("GET", "/ig/anomalies"),
            ("GET", "/ig/disclosures"),
            ("GET", "/ig/export"),
            ("GET", "/ig/integrity"),
            ("GET", "/ig/integrity/public-key.pem"),
            ("GET", "/ig/integrity/runs/{run_id}.json"),
            ("GET", "/ig/records/{record_id}"),
            ("GET", "/ig/records/{record_id}/proof.json"),
            ("GET", "/ig/subjects"),
            ("POST", "/ig/integrity/verify"),
            # tests/integration/test_web_ig_people.py audits each refusal of these
            ("GET", "/ig/find"),
            ("POST", "/ig/find"),
            ("GET", "/ig/consent"),
            ("GET", "/ig/requests"),
            ("POST", "/ig/requests/{request_id}"),
        )
    },
    # The people's pages call the same services as the /v1 routes above (list_alerts, decide,
    # family_view, identity.matches/decide, reports.repeat/central), where the area is
    # enforced; test_web_security.py refuses another area's family page and
    # test_web_review_pages.py another area's matches and reports. They need a session, not
    # a bearer key, so they are exempt from this matrix.
    **{
        (method, path): "a page over the same service as its /v1 route"
        for method, path in (
            ("GET", "/"),
            ("GET", "/alerts"),
            ("GET", "/alerts/stream"),
            ("GET", "/alerts/{alert_id}/dismiss"),
            ("GET", "/families/{family_id}"),
            ("GET", "/families/{family_id}/request/{hub_id}"),  # the form only
            ("POST", "/families/{family_id}/request/{hub_id}"),  # as POST /v1/requests
            ("POST", "/alerts/{alert_id}/acknowledge"),
            ("POST", "/alerts/{alert_id}/agenda"),
            ("POST", "/alerts/{alert_id}/dismiss"),
            # identity and reports: the services filter by area (test_web_review_pages.py)
            ("GET", "/identity"),
            ("POST", "/identity/{match_id}/{verb}"),
            ("GET", "/reports/repeat"),
            ("GET", "/reports/repeat.csv"),
            ("GET", "/reports/central-list"),
            ("GET", "/reports/central-list.csv"),
            ("GET", "/reports/outcomes"),
            ("GET", "/reports/outcomes.csv"),
            # the Marac meeting: agenda_for, record_hearing, area_actions refuse or filter
            # another area (test_web_meeting.py)
            ("GET", "/meeting"),
            ("GET", "/meeting/cases/{family_id}/hearing"),
            ("POST", "/meeting/cases/{family_id}/hearing"),
            ("GET", "/meeting/actions"),
        )
    },
}
# One person sent by two agencies of HOME without a shared strong identifier: a possible match.
JO_BY_POLICE = {
    "role": "victim", "name": "Jo Testperson", "date_of_birth": "1991-02-02",
    "postcode": "ZZ99 2BB", "identifiers": {"pnc_id": "TEST0000031"},
}  # fmt: skip
JO_BY_AE = {
    "role": "victim", "name": "jo TESTPERSON", "date_of_birth": "1991-02-02",
    "postcode": "zz992bb", "identifiers": {"nhs_number": "9990000031"},
}  # fmt: skip


class World:
    """HOME's data: a family with a high-risk alert, a police incident a GP asked more about,
    and a possible match; readers of both areas in both Marac roles."""

    def __init__(self, api: Api) -> None:
        self.api = api
        idva = api.key("TEST-IDVA-A", "agency_system", "idva")
        police = api.key("TEST-POLICE-A", "agency_system", "police")
        ae = api.key("TEST-AE-A", "agency_system", "health_ae")
        self.post(idva, "/v1/events", b.dash(16))
        incident = self.post(police, "/v1/events", b.incident())["hub_id"]
        self.post(police, "/v1/events", _about(EXAMPLES["police.incident"], JO_BY_POLICE))
        self.post(ae, "/v1/events", _about(EXAMPLES["health.attendance"], JO_BY_AE))
        process_stored(api.services)
        self.readers = {
            (role, area): self.person(f"{role} of {area}", role, area)
            for role in ROLES
            for area in (HOME, AWAY)
        }
        home = self.readers[("marac_chair", HOME)]
        alerts = self.get(home, "/v1/alerts", rule="visible_high_risk")["alerts"]
        [alert] = [a for a in alerts if a["rule"] == "visible_high_risk"]
        self.alert, self.victim, self.family = (
            alert["alert_id"],
            alert["victim_token"],
            (alert["family_id"]),
        )
        [match] = self.get(home, "/v1/identity/matches")["matches"]
        self.match = match["match_id"]
        gp = self.person("GP Example", "gp", None, "TEST-GP-A")
        reason = "Patient disclosed fear at appointment; need incident context."
        ask = {"subject": self.victim, "items": [incident], "purpose": "safeguarding_review",
               "reason": reason}  # fmt: skip
        self.request = self.post(gp, "/v1/requests", ask)["request_id"]
        self.incident = incident

    def person(
        self, name: str, role: str, area: str | None, agency: str | None = None
    ) -> dict[str, str]:
        _p, key = self.api.services.principals.add(name, "person", role, agency, area)
        return {"Authorization": f"Bearer {key}"}

    def post(self, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
        r = self.api.client.post(path, json=body, headers=headers)
        assert r.status_code in (201, 202), r.text
        return dict(r.json())

    def get(self, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
        r = self.api.client.get(path, headers=headers, params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
        return self.api.client.request(method, path, headers=headers, **kw)

    def audit_tail(self) -> dict[str, Any]:
        return dict(json.loads(list(self.api.services.audit.records())[-1].body))


def _about(event: dict[str, Any], subject: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out["id"] = f"{event['id']}-JO"
    out["data"]["subjects"] = [subject]
    return out


@dataclass(frozen=True)
class Case:
    """How a route is asked about HOME's data. Item routes name one thing (path params and
    body) and must answer 403, audited; list routes must leave HOME's things out (``shows``
    says whether an answer shows HOME's thing) and refuse ?area=HOME outright."""

    path: Callable[[World], str]
    kw: Callable[[World], dict[str, Any]] = lambda w: {}
    shows: Callable[[World, Any], bool] | None = None  # a list route
    home_control: bool = True  # False: the route never answers (a stream)


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/v1/alerts"): Case(
        lambda w: "/v1/alerts",
        shows=lambda w, body: any(a["alert_id"] == w.alert for a in body["alerts"]),
    ),
    ("GET", "/v1/alerts/stream"): Case(
        lambda w: "/v1/alerts/stream", lambda w: {"params": {"area": HOME}}, home_control=False
    ),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): Case(
        lambda w: f"/v1/alerts/{w.alert}/acknowledge"
    ),
    ("POST", "/v1/alerts/{alert_id}/agenda"): Case(lambda w: f"/v1/alerts/{w.alert}/agenda"),
    ("POST", "/v1/alerts/{alert_id}/dismiss"): Case(
        lambda w: f"/v1/alerts/{w.alert}/dismiss",
        lambda w: {"json": {"reason": "TEST: heard at Marac already"}},
    ),
    ("GET", "/v1/marac/agenda"): Case(
        lambda w: "/v1/marac/agenda", lambda w: {"params": {"area": HOME}}
    ),
    ("GET", "/v1/subjects/{token}/events"): Case(lambda w: f"/v1/subjects/{w.victim}/events"),
    ("GET", "/v1/subjects/{token}/family"): Case(lambda w: f"/v1/subjects/{w.victim}/family"),
    ("GET", "/v1/families/{family_id}"): Case(lambda w: f"/v1/families/{w.family}"),
    ("GET", "/v1/requests"): Case(
        lambda w: "/v1/requests",
        shows=lambda w, body: any(r["request_id"] == w.request for r in body),
    ),
    ("POST", "/v1/requests"): Case(
        lambda w: "/v1/requests",
        lambda w: {
            "json": {
                "subject": w.victim,
                "items": [w.incident],
                "purpose": "marac_case_preparation",
                "reason": "TEST: the hearing needs the incident's circumstances",
            }
        },
    ),
    ("POST", "/v1/requests/{request_id}/decision"): Case(
        lambda w: f"/v1/requests/{w.request}/decision",
        lambda w: {"json": {"grant": False, "reason": "TEST: not needed for the meeting"}},
    ),
    ("GET", "/v1/identity/matches"): Case(
        lambda w: "/v1/identity/matches",
        shows=lambda w, body: any(m["match_id"] == w.match for m in body["matches"]),
    ),
    **{
        ("POST", f"/v1/identity/matches/{{match_id}}/{verb}"): Case(
            lambda w, verb=verb: f"/v1/identity/matches/{w.match}/{verb}"
        )
        for verb in ("confirm", "reject", "undo")
    },
    ("GET", "/v1/reports/repeat"): Case(
        lambda w: "/v1/reports/repeat", lambda w: {"params": {"area": HOME, "min_links": 1}}
    ),
    ("GET", "/v1/reports/central-list"): Case(
        lambda w: "/v1/reports/central-list", lambda w: {"params": {"area": HOME}}
    ),
    ("GET", "/v1/reports/outcomes"): Case(
        lambda w: "/v1/reports/outcomes", lambda w: {"params": {"area": HOME}}
    ),
}


def personal_routes(api: Api) -> list[tuple[str, str]]:
    return sorted(
        (m, r.path) for r in app_routes(api) for m in r.methods if (m, r.path) not in NOT_PERSONAL
    )


def test_every_route_with_personal_data_has_an_area_case(api: Api) -> None:
    missing = [f"{m} {p}" for m, p in personal_routes(api) if (m, p) not in CASES | EXEMPT]
    assert missing == [], "give these routes an area case (or an exemption): " + ", ".join(missing)


def refused_elsewhere(w: World, method: str, path: str, case: Case, reader: dict[str, str]) -> str:
    """What went wrong when a reader of AWAY asks about HOME's data ('' when refused)."""
    url, kw = case.path(w), case.kw(w)
    if case.shows is not None:  # a list: HOME's things left out; asking for HOME refused
        r = w.call(method, url, reader, **kw)
        if r.status_code != 200 or case.shows(w, r.json()):
            return f"listed HOME's data ({r.status_code})"
        asked = w.call(method, url, reader, params={"area": HOME})  # ignored where not a filter
        if asked.status_code == 200 and not case.shows(w, asked.json()):
            return ""
        return "" if asked.status_code == 403 else f"?area=HOME gave {asked.status_code}"
    before = len(list(w.api.services.audit.records()))
    r = w.call(method, url, reader, **kw)
    if r.status_code != 403:
        return f"answered {r.status_code}: {r.text[:120]}"
    if "{" in path and len(list(w.api.services.audit.records())) == before:
        return "refused without an audit record"
    if "{" in path and w.audit_tail()["outcome"] != "refused":
        return f"audited as {w.audit_tail()['outcome']}"
    return ""


def test_a_reader_of_another_area_is_refused_every_route_with_personal_data(api: Api) -> None:
    w = World(api)
    wrong = []
    for role in ROLES:
        for method, path in personal_routes(api):
            case = CASES.get((method, path))
            if case is None:
                continue
            problem = refused_elsewhere(w, method, path, case, w.readers[(role, AWAY)])
            if problem:
                wrong.append(f"{role} of {AWAY}: {method} {path} {problem}")
    # the same calls by HOME's own readers get through: the refusals above were the boundary's
    # (every GET before any POST changes a status, so lists of open things still hold them)
    for method, path in personal_routes(api):
        case = CASES.get((method, path))
        if case is None or not case.home_control:
            continue
        for role in ROLES:
            reader = w.readers[(role, HOME)]
            r = w.call(method, case.path(w), reader, **case.kw(w))
            if r.status_code in (401, 403, 404, 422) or r.status_code >= 500:
                wrong.append(f"{role} of {HOME}: {method} {path} answered {r.status_code}")
            elif case.shows is not None and not case.shows(w, r.json()):
                wrong.append(f"{role} of {HOME}: {method} {path} did not list HOME's data")
    assert wrong == [], "\n".join(wrong)
    assert api.services.audit.verify().ok
