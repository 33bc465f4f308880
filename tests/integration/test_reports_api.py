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


@pytest.fixture
def hub(api: Api) -> Api:
    send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"],
         second_victim("TEST-POLICE-INCIDENT-0002"))  # fmt: skip
    send(api, "TEST-IDVA-A", "idva", EXAMPLES["risk.dash"])
    send(api, "TEST-MARAC-A", "marac", EXAMPLES["marac.case_heard"])
    process_stored(api.services)
    return api


def test_the_central_list_ranks_and_names_for_a_marac_chair(hub: Api) -> None:
    chair = hub.key("Chair Example", "person", "marac_chair")
    r = hub.client.get("/v1/reports/central-list", params={"area": AREA, "week": WEEK},
                       headers=chair)  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    report = body["report"]
    assert (report["area"], report["week"], report["families"]) == (AREA, WEEK, 1)
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
