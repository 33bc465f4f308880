"""Reports through the API and the operator CLI: Marac roles only, scoped to a reader's area,
drawn from what the policy shares, audited first; the CLI shows tokens, never names.

Events go in over HTTP; the linker and the projector run in-process (tests/processing.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from consumers.weekly_list import format_central_list
from hub.adapters.crypto.tokens import Tokeniser
from hub.contract.examples import EXAMPLES, PERPETRATOR, VICTIM
from hub.entrypoints.cli import main
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.processing import process_stored

AREA = "TEST-AREA-NORTH"  # where the example Marac hearing was held
WEEK = "2026-W09"  # the examples happen on Sunday 2026-03-01
JO = {**VICTIM, "name": "Jo Placeholder", "identifiers": {"nhs_number": "9990000031"}}


def token(api: Api, kind: str, value: str) -> str:
    return Tokeniser(api.services.ingress.tokeniser._key).token(kind, value)


def send(api: Api, agency: str, agency_type: str, *events: dict[str, Any]) -> None:
    headers = api.key(agency, "agency_system", agency_type)
    for event in events:
        r = api.client.post("/v1/events", json=event, headers=headers)
        assert r.status_code == 202, r.text


def second_victim(source_id: str, basis: str = "dpa2018-part3", **extra: Any) -> dict[str, Any]:
    """Sam, named as perpetrator with another victim (so linked to two)."""
    event = copy.deepcopy(EXAMPLES["police.incident"])
    event["id"] = source_id
    event["data"]["subjects"] = [JO, PERPETRATOR]
    event["data"]["weapon"] = "firearm"
    return event | {"lawfulbasis": basis, **extra}


def jo_heard() -> dict[str, Any]:
    """Jo's own case heard at the same area's Marac: two victims of Sam are two cases
    (issue 15), each in the area where it is heard."""
    event = copy.deepcopy(EXAMPLES["marac.case_heard"])
    event["id"] = "TEST-MARAC-CASE-HEARD-0002"
    event["data"]["subjects"] = [JO, PERPETRATOR]
    return event


@pytest.fixture
def hub(api: Api) -> Api:
    send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"],
         second_victim("TEST-POLICE-INCIDENT-0002"))  # fmt: skip
    send(api, "TEST-IDVA-A", "idva", EXAMPLES["risk.dash"])
    send(api, "TEST-MARAC-A", "marac", EXAMPLES["marac.case_heard"], jo_heard())
    process_stored(api.services)
    return api


def test_the_central_list_ranks_and_names_for_a_marac_chair(hub: Api) -> None:
    chair = hub.key("Chair Example", "person", "marac_chair")
    r = hub.client.get("/v1/reports/central-list", params={"area": AREA, "week": WEEK},
                       headers=chair)  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    report = body["report"]
    assert (report["area"], report["week"], report["families"]) == (AREA, WEEK, 2)  # 2 cases
    alex, sam = token(hub, "nhs", "9990000001"), token(hub, "pnc", "TEST0000002")
    assert report["victims"][0]["token"] == alex  # Dash 14: high risk
    assert {f["factor"] for f in report["victims"][0]["factors"]} >= {"dash", "high_risk"}
    [perp] = report["perpetrators"]
    assert perp["token"] == sam
    assert {f["factor"]: f["points"] for f in perp["factors"]}["linked_victims"] == 10
    assert body["names"][alex]["name"] == "Alex Example"
    record = json.loads(list(hub.services.audit.records())[-1].body)
    assert record["action"] == "GET /v1/reports/central-list"
    assert alex in record["subjects"] and sam in record["subjects"]
    text = format_central_list(report, body["names"])
    assert "Alex Example" in text and "Most dangerous perpetrators" in text


def test_the_repeat_report_counts_what_the_policy_shares(hub: Api) -> None:
    chair = hub.key("Chair Example", "person", "marac_chair")
    r = hub.client.get("/v1/reports/repeat", headers=chair)
    assert r.status_code == 200, r.text
    [sam] = r.json()["report"]["perpetrators"]
    assert sam["token"] == token(hub, "pnc", "TEST0000002") and sam["count"] == 2
    assert r.json()["report"]["victims_by_count"] == {"1": 2}
    record = json.loads(list(hub.services.audit.records())[-1].body)
    assert record["action"] == "GET /v1/reports/repeat"


def test_an_event_shared_on_a_withdrawn_consent_counts_for_nothing(api: Api) -> None:
    consent = copy.deepcopy(EXAMPLES["consent.recorded"])
    consent["data"]["subjects"] = [JO]
    withdrawn = copy.deepcopy(EXAMPLES["consent.withdrawn"])
    withdrawn["data"]["subjects"] = [JO]
    send(api, "TEST-IDVA-A", "idva", consent, withdrawn)
    on_consent = second_victim("TEST-POLICE-INCIDENT-0002", "ukgdpr-6-1-a",
                               consentref=consent["consentref"])  # fmt: skip
    send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"], on_consent)
    process_stored(api.services)
    chair = api.key("Chair Example", "person", "marac_chair")
    body = api.client.get("/v1/reports/repeat", headers=chair).json()
    assert body["report"]["perpetrators"] == []  # Sam's link to Jo is not shared
    assert body["withheld"] >= 1


def test_reports_are_for_marac_roles_of_the_area(hub: Api) -> None:
    gp = hub.key("GP Example", "person", "gp", "TEST-GP-A")
    for path in ("/v1/reports/repeat", "/v1/reports/central-list"):
        assert hub.client.get(path, headers=gp, params={"area": AREA}).status_code == 403
    _p, key = hub.services.principals.add("South Chair", "person", "marac_chair", None,
                                          area="TEST-AREA-SOUTH")  # fmt: skip
    south = {"Authorization": f"Bearer {key}"}
    r = hub.client.get("/v1/reports/central-list", params={"area": AREA}, headers=south)
    assert r.status_code == 403 and "TEST-AREA-SOUTH" in detail_text(r)
    mine = hub.client.get("/v1/reports/central-list", params={"week": WEEK}, headers=south)
    assert mine.status_code == 200 and mine.json()["report"]["victims"] == []


def test_unusable_parameters_say_what_to_change(hub: Api) -> None:
    chair = hub.key("Chair Example", "person", "marac_chair")
    r = hub.client.get("/v1/reports/central-list", headers=chair)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "area"]
    r = hub.client.get("/v1/reports/central-list", params={"area": AREA, "week": "soon"},
                       headers=chair)  # fmt: skip
    assert r.status_code == 422 and "ISO week" in r.json()["detail"][0]["msg"]
    r = hub.client.get("/v1/reports/repeat", params={"min_links": 0}, headers=chair)
    assert r.status_code == 422


def test_the_operator_cli_prints_tokens_not_names_and_is_audited(
    hub: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    before = len(list(hub.services.audit.records()))
    assert main(["reports", "central-list", "--area", AREA, "--week", WEEK]) == 0
    out = capsys.readouterr().out
    assert f"Central list: {AREA}, week {WEEK}" in out
    assert token(hub, "nhs", "9990000001")[:12] in out and "Alex" not in out
    assert main(["reports", "repeat", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["perpetrators"][0]["count"] == 2
    records = [json.loads(r.body) for r in hub.services.audit.records()][before:]
    assert [r["action"] for r in records] == ["hub reports central-list", "hub reports repeat"]
    assert all(r["principal_id"].startswith("cli:") for r in records)
    assert main(["reports", "central-list", "--week", "soon"]) == 2


def test_the_weekly_list_consumer_prints_what_the_api_gives(hub: Api) -> None:
    from consumers.weekly_list import fetch_central_list

    chair = hub.key("Chair Example", "person", "marac_chair")
    key = chair["Authorization"].removeprefix("Bearer ")
    body = fetch_central_list(hub.client, key, AREA, WEEK)
    text = format_central_list(body["report"], body["names"])
    assert text.startswith(f"Central list: {AREA}, week {WEEK}")
    assert "Alex Example" in text and "+10  high_risk" in text
    with pytest.raises(RuntimeError, match="422"):
        fetch_central_list(hub.client, key, AREA, "soon")


# --- the outcomes report (issue 15, section 3) ------------------------------------------------

PERIOD = {"area": AREA, "start": "2026-03-01", "end": "2026-04-30"}


def at(event_type: str, n: int, time: str, **data: Any) -> dict[str, Any]:
    """The example of the type, about Alex, at another time with other data."""
    event = copy.deepcopy(EXAMPLES[event_type])
    event["id"] = f"TEST-OUTCOMES-{n:04d}"
    event["time"] = event["senttime"] = time
    event["data"] = {"subjects": [VICTIM], **data}
    return event


@pytest.fixture
def closed_case(api: Api) -> Api:
    """Alex's incident and hearing; referred to the Idva, reached two days later, supported for
    a month and closed with the outcomes measured at exit."""
    send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"],
         at("referral.made", 1, "2026-03-02T10:00:00Z", to="idva"))  # fmt: skip
    send(api, "TEST-MARAC-A", "marac", EXAMPLES["marac.case_heard"])
    exit_data = EXAMPLES["case.closed"]["data"] | {"subjects": [VICTIM]}
    send(api, "TEST-IDVA-A", "idva",
         at("contact.attempted", 2, "2026-03-04T10:00:00Z", method="phone",
            outcome="contact_made"),
         at("case.closed", 3, "2026-04-01T10:00:00Z", **exit_data))  # fmt: skip
    process_stored(api.services)
    return api


def test_the_outcomes_report_gives_figures_for_a_chair_and_names_no_one(closed_case: Api) -> None:
    chair = closed_case.key("Chair Example", "person", "marac_chair")
    r = closed_case.client.get("/v1/reports/outcomes", params=PERIOD, headers=chair)
    assert r.status_code == 200, r.text
    body = r.json()
    report = body["report"]
    assert (report["area"], report["start"], report["end"]) == (AREA, "2026-03-01", "2026-04-30")
    assert report["first_contact"] | {} == {
        "referrals": 1, "contacted": 1, "within_working_days": 1, "working_days": 5,
        "median_days": 2, "mean_days": 2,
    }  # fmt: skip
    assert report["support"]["ended"] == 1 and report["support"]["median_days"] == 30
    assert report["hearings"] == {"heard": 1, "with_action_plan": 1}
    assert report["exit"]["reasons"] == {"support_completed": 1}
    assert report["exit"]["abuse"]["physical"] == {"stopped": 1}
    assert body["names"] == {}
    record = json.loads(list(closed_case.services.audit.records())[-1].body)
    assert record["action"] == "GET /v1/reports/outcomes" and record["fields"] == ["report"]
    assert token(closed_case, "nhs", "9990000001") in record["subjects"]


def test_the_outcomes_report_is_for_marac_roles_of_the_area(closed_case: Api) -> None:
    gp = closed_case.key("GP Example", "person", "gp", "TEST-GP-A")
    assert closed_case.client.get("/v1/reports/outcomes", params=PERIOD,
                                  headers=gp).status_code == 403  # fmt: skip
    _p, key = closed_case.services.principals.add(
        "South Chair", "person", "marac_chair", None, area="TEST-AREA-SOUTH"
    )
    south = {"Authorization": f"Bearer {key}"}
    r = closed_case.client.get("/v1/reports/outcomes", params=PERIOD, headers=south)
    assert r.status_code == 403 and "TEST-AREA-SOUTH" in detail_text(r)
    mine = closed_case.client.get("/v1/reports/outcomes", headers=south)  # their own area
    assert mine.status_code == 200 and mine.json()["report"]["families_counted"] == 0


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"start": "2026-03-01"}, "area", "name the Marac area"),
        (PERIOD | {"start": "2026-05-01"}, "start", "after it ends"),
        (PERIOD | {"end": "31/04/2026"}, "end", "ISO 8601"),
    ],
)
def test_unusable_outcomes_parameters_say_what_to_change(
    closed_case: Api, params: dict[str, str], field: str, words: str
) -> None:
    chair = closed_case.key("Chair Example", "person", "marac_chair")
    r = closed_case.client.get("/v1/reports/outcomes", params=params, headers=chair)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field] and words in detail_text(r)


def test_the_operator_cli_prints_the_outcomes_and_is_audited(
    closed_case: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    args = ["reports", "outcomes", "--area", AREA, "--start", "2026-03-01", "--end", "2026-04-30"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"Outcomes for {AREA}, 2026-03-01 to 2026-04-30" in out
    assert "Outcomes at exit: Reason: Support completed: 1 of 1 (100%)" in out
    assert "Alex" not in out
    assert main([*args, "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["support"]["ended"] == 1
    records = [json.loads(r.body) for r in closed_case.services.audit.records()][-2:]
    assert [r["action"] for r in records] == ["hub reports outcomes"] * 2
    assert main(["reports", "outcomes", "--start", "2026-05-01", "--end", "2026-04-01"]) == 2
