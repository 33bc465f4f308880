"""The Marac agenda through the API on a real SQLite database: cases referred since the area's
last meeting, repeats flagged, cases added to the agenda, referrals no rule alerted on, open
actions and research prompts; roles, areas, the policy point and the audit record.

Events go in over HTTP; the linker and the projector run in-process (tests/processing.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hub.contract.examples import EXAMPLES
from tests import builders as b
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.processing import process_stored

ALEX = b.victim("9990000001", "Alex Example")  # heard in January, abused again in March
JO = b.victim("9990000202", "Jo Testperson")  # high risk in February
MAX = b.victim("9990000303", "Max Fakename")  # high risk in December, heard in January
ROBIN = b.victim("9990000404", "Robin Demo")  # referred to Marac, no rule met
KIT = b.victim("9990000505", "Kit Placeholder")  # medium risk, added to the agenda
OTHER = b.victim("9990000606", "Lee Sample")  # high risk in another area
SAM = b.perpetrator("TEST00000002", "Sam Sample")
PAT = b.perpetrator("TEST00000007", "Pat Example")


def heard(day: str, victim: dict[str, Any], perpetrator: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLES["marac.case_heard"])
    event["id"] = f"TEST-HEARD-{day}-{victim['identifiers']['nhs_number']}"
    event["time"] = event["senttime"] = f"{day}T15:00:00Z"
    event["data"].update(subjects=[victim, perpetrator], meeting_date=day, area="TEST-AREA")
    return event


def to_marac(day: str, victim: dict[str, Any], **over: Any) -> dict[str, Any]:
    event = b.referral("marac", time=f"{day}T11:00:00Z", **over)
    event["data"]["subjects"] = [victim]
    return event


class Marac:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.keys = {
            name: api.key(name, "agency_system", kind)
            for name, kind in (("TEST-POLICE-A", "police"), ("TEST-IDVA-A", "idva"),
                               ("TEST-GP-A", "gp"), ("TEST-MARAC-A", "marac"),
                               ("TEST-IDVA-Z", "idva"))
        }  # fmt: skip
        self.chair = api.key("Chair Example", "person", "marac_chair")

    def send(self, agency: str, *events: dict[str, Any]) -> None:
        for event in events:
            r = self.api.client.post("/v1/events", json=event, headers=self.keys[agency])
            assert r.status_code == 202, r.text

    def agenda(self, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        r = self.api.client.get("/v1/marac/agenda", headers=headers or self.chair, params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
def marac(api: Api) -> Marac:
    m = Marac(api)
    m.send("TEST-IDVA-A", b.dash(16, subjects=[MAX, PAT], time="2025-12-01T10:00:00Z"))
    m.send("TEST-MARAC-A", heard("2026-01-12", ALEX, SAM), heard("2026-01-12", MAX, PAT))
    m.send("TEST-IDVA-A", b.dash(16, subjects=[JO], time="2026-02-10T10:00:00Z"))
    m.send("TEST-GP-A", needs_of(JO, "2026-02-11", "mental_health", "alcohol_misuse"))
    m.send("TEST-IDVA-A", to_marac("2026-02-20", ROBIN))
    m.send("TEST-POLICE-A", b.incident(subjects=[ALEX, SAM], time="2026-03-01T21:00:00Z"))
    m.send("TEST-IDVA-A", b.dash(7, subjects=[KIT], time="2026-01-05T10:00:00Z"))
    m.send("TEST-IDVA-Z", b.dash(16, subjects=[OTHER], time="2026-02-01T10:00:00Z"))
    process_stored(api.services)
    return m


def needs_of(victim: dict[str, Any], day: str, *found: str) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLES["needs.identified"])
    event["id"] = f"TEST-NEEDS-{day}"
    event["time"] = event["senttime"] = f"{day}T09:00:00Z"
    event["data"] = {"subjects": [victim], "needs": list(found)}
    return event


def by_name(agenda: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["victim_name"]: c for c in agenda["cases"]}


def put_on_agenda(marac: Marac, name: str, meeting: str) -> None:
    r = marac.api.client.get("/v1/alerts", headers=marac.chair, params={"rule": "medium_risk"})
    [alert] = [a for a in r.json()["alerts"] if a["people"][0]["name"] == name]
    added = marac.api.client.post(
        f"/v1/alerts/{alert['alert_id']}/agenda", headers=marac.chair,
        json={"meeting_date": meeting},
    )  # fmt: skip
    assert added.status_code == 202, added.text
    process_stored(marac.api.services)


def test_the_agenda_lists_cases_since_the_last_meeting_with_repeats_flagged(marac: Marac) -> None:
    put_on_agenda(marac, "Kit Placeholder", "2026-03-16")
    agenda = marac.agenda(area="TEST-AREA")
    assert agenda["last_meeting"] == "2026-01-12" and agenda["since"] == "2026-01-12"
    cases = by_name(agenda)
    # Max was heard at the last meeting; Lee's alert belongs to another area
    assert list(cases) == ["Kit Placeholder", "Jo Testperson", "Robin Demo", "Alex Example"]
    assert agenda["withheld"] == 0

    alex = cases["Alex Example"]
    assert alex["rules"] == ["repeat_marac_case"] and alex["repeat"] is True
    assert "heard at Marac (TEST-AREA) on 2026-01-12, within 12 months" in alex["repeat_reasons"]
    assert {(a["action"], a["owner_agency"]) for a in alex["open_actions"]} == {
        ("spoc", "TEST-IDVA-A"), ("flag_files", "TEST-POLICE-A"),
    }  # fmt: skip

    jo = cases["Jo Testperson"]
    assert jo["rules"] == ["visible_high_risk"] and not jo["repeat"] and not jo["on_agenda"]
    assert "16 of 24" in jo["reasons"][0]
    assert {a["agency_id"] for a in jo["agencies"]} == {"TEST-IDVA-A", "TEST-GP-A"}
    prompts = {p["agency_type"]: p for p in jo["research_prompts"]}
    assert set(prompts) == {"gp", "idva", "mental_health", "substance_misuse"}
    assert prompts["gp"]["involved"] and not prompts["mental_health"]["involved"]
    assert set(prompts["idva"]["questions"]) == {"mental_health", "substance_misuse", "safety"}

    robin = cases["Robin Demo"]  # referred to Marac; no rule met, still on the agenda
    assert robin["rules"] == [] and [r["agency_id"] for r in robin["referrals"]] == ["TEST-IDVA-A"]

    kit = cases["Kit Placeholder"]  # medium risk, put on the agenda by the chair
    assert kit["on_agenda"] and kit["meeting_date"] == "2026-03-16"
    assert kit["rules"] == ["medium_risk"]


def test_since_replaces_the_last_meeting_and_the_read_is_audited(marac: Marac) -> None:
    agenda = marac.agenda(area="TEST-AREA", since="2026-02-15")
    assert agenda["since"] == "2026-02-15" and agenda["last_meeting"] == "2026-01-12"
    assert list(by_name(agenda)) == ["Robin Demo", "Alex Example"]
    record = [json.loads(r.body) for r in marac.api.services.audit.records()][-1]
    assert record["record_id"] == agenda["audit_record_id"]
    assert record["action"] == "GET /v1/marac/agenda?area=TEST-AREA"
    assert record["purpose"] == "marac_meeting"
    assert record["subjects"] == sorted(c["victim_token"] for c in agenda["cases"])
    assert "victim_name" in record["fields"] and "research_prompts" in record["fields"]


def test_areas_and_roles(marac: Marac) -> None:
    _p, key = marac.api.services.principals.add(
        "North Coordinator Example", "person", "marac_coordinator", None, "TEST-AREA"
    )
    north = {"Authorization": f"Bearer {key}"}
    assert marac.agenda(north)["area"] == "TEST-AREA"
    r = marac.api.client.get("/v1/marac/agenda", headers=north, params={"area": "default"})
    assert r.status_code == 403 and "TEST-AREA" in detail_text(r)
    r = marac.api.client.get("/v1/marac/agenda", headers=marac.chair)
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "query.area"
    officer = marac.api.key("PC Example", "person", "police", "TEST-POLICE-A")
    r = marac.api.client.get("/v1/marac/agenda", headers=officer, params={"area": "TEST-AREA"})
    assert r.status_code == 403
    assert [c["victim_name"] for c in marac.agenda(area="default")["cases"]] == ["Lee Sample"]
    empty = marac.agenda(area="TEST-AREA-WEST")
    assert empty["cases"] == [] and empty["last_meeting"] is None
    assert empty["audit_record_id"] is None


def test_a_case_resting_on_an_event_not_shared_is_withheld(api: Api) -> None:
    m = Marac(api)
    m.send("TEST-IDVA-A", to_marac("2026-02-20", ROBIN, lawfulbasis="ukgdpr-6-1-a",
                                   consentref="TEST-NEVER-RECORDED"))  # fmt: skip
    process_stored(api.services)
    agenda = m.agenda(area="TEST-AREA")
    assert agenda["cases"] == [] and agenda["withheld"] == 1
    assert agenda["refusals"] and "Robin" not in json.dumps(agenda)
