"""The identity review and report pages: login required, CSRF-less posts refused, a chair
sees only their area's matches, a decision needs a reason (GOV.UK error summary) and goes
through the same service and audit as /v1/identity, and a report's CSV download has the same
rows as its table."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.families import family_id_of_token
from hub.bootstrap import build_services
from hub.contract.examples import EXAMPLES, PERPETRATOR, VICTIM
from hub.entrypoints.api.app import create_app
from hub.services.access import subject_area
from hub.settings import Settings
from tests.integration.test_identity_api import ALEX_BY_AE, ALEX_BY_POLICE
from tests.integration.test_web_security import Clock, Web
from tests.processing import process_stored

MATCH = re.compile(r'id="match-([0-9a-f-]{36})"')
JO = {**VICTIM, "name": "Jo Placeholder", "identifiers": {"nhs_number": "9990000031"}}


@pytest.fixture
def audit_log() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def web(tmp_path: Path, audit_log: InMemoryAuditLog) -> Iterator[Web]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, build_services(settings, audit=audit_log))
    app.state.web.clock = Clock()
    with TestClient(app) as client:
        yield Web(client, app.state.services, app.state.web.clock)


def send(web: Web, agency: str, agency_type: str, *events: dict[str, Any]) -> None:
    key = web.services.principals.add(agency, "agency_system", agency_type, agency)[1]
    for event in events:
        r = web.client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 202, r.text


def token(web: Web, kind: str, value: str) -> str:
    return Tokeniser(web.services.ingress.tokeniser._key).token(kind, value)


@pytest.fixture
def match_area(web: Web) -> str:
    """Alex sent twice without a shared strong identifier: one possible match; its area."""
    incident = copy.deepcopy(EXAMPLES["police.incident"])
    incident["data"]["subjects"] = [ALEX_BY_POLICE]
    attendance = copy.deepcopy(EXAMPLES["health.attendance"])
    attendance["data"]["subjects"] = [ALEX_BY_AE]
    send(web, "TEST-POLICE-A", "police", incident)
    send(web, "TEST-AE-A", "health_ae", attendance)
    process_stored(web.services)
    area = subject_area(web.services, token(web, "pnc", "TEST0000011"))
    assert area is not None
    return area


def last_event(web: Web) -> Any:
    return web.services.ingress.store.read(0, 1000)[-1][1]


def last_audit(audit_log: InMemoryAuditLog) -> dict[str, Any]:
    return dict(json.loads(list(audit_log.records())[-1].body))


def test_the_pages_need_a_login(web: Web) -> None:
    for path in ("/identity", "/reports/repeat", "/reports/repeat.csv",
                 "/reports/central-list", "/reports/central-list.csv",
                 "/reports/outcomes", "/reports/outcomes.csv"):  # fmt: skip
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = web.client.post(f"/identity/{'0' * 8}-0000-0000-0000-{'0' * 12}/confirm",
                        data={"reason": "same person"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_chair_sees_only_their_areas_matches(
    web: Web, match_area: str, audit_log: InMemoryAuditLog
) -> None:
    web.person("chair-south", area="TEST-AREA-SOUTH")
    web.log_in("chair-south")
    page = web.client.get("/identity")
    assert page.status_code == 200 and MATCH.findall(page.text) == []
    assert "Alex" not in page.text and "Example" not in page.text

    web.client.cookies.clear()
    web.person("chair-home", area=match_area)
    web.log_in("chair-home")
    page = web.client.get("/identity")
    [match_id] = MATCH.findall(page.text)
    assert page.text.count("Alex Example") + page.text.count("alex  EXAMPLE") >= 1
    assert "Matches" in page.text and "Differs" in page.text  # birth date same, families not
    record = last_audit(audit_log)
    assert record["action"] == "GET /v1/identity/matches" and record["outcome"] == "disclosed"

    # another area's chair cannot decide it either, even knowing its id
    web.client.cookies.clear()
    web.log_in("chair-south")
    r = web.client.post(f"/identity/{match_id}/confirm",
                        data={"csrf_token": web.csrf(), "reason": "same person"})  # fmt: skip
    assert r.status_code in (403, 404)
    assert last_audit(audit_log)["outcome"].startswith("refused")


def test_a_decision_needs_the_csrf_token_and_a_reason_then_is_taken(
    web: Web, match_area: str, audit_log: InMemoryAuditLog
) -> None:
    web.person("chair-home", area=match_area)
    web.log_in("chair-home")
    [match_id] = MATCH.findall(web.client.get("/identity").text)
    url = f"/identity/{match_id}/confirm"
    assert web.client.post(url, data={"reason": "same person"}).status_code == 403
    assert web.client.post(url, data={"reason": "x", "csrf_token": "forged"}).status_code == 403

    r = web.client.post(url, data={"csrf_token": web.csrf(), "reason": "  "})
    assert r.status_code == 400 and "govuk-error-summary" in r.text
    assert f'href="#reason-{match_id}"' in r.text and f'id="reason-{match_id}"' in r.text
    assert last_event(web).type != "hub.identity.match_confirmed"

    r = web.client.post(url, data={"csrf_token": web.csrf(), "reason": "same NHS records seen"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "done=confirm" in r.headers["location"]
    stored = last_event(web)
    assert stored.type == "hub.identity.match_confirmed"
    assert stored.data["reason"] == "same NHS records seen"
    assert last_audit(audit_log)["action"] == f"POST /v1/identity/matches/{match_id}/confirm"

    process_stored(web.services)  # the linker applies it: now it can be undone
    page = web.client.get("/identity?status=confirmed")
    assert match_id in page.text and f"/identity/{match_id}/undo" in page.text
    r = web.client.post(f"/identity/{match_id}/undo",
                        data={"csrf_token": web.csrf(), "reason": "wrong after all"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert last_event(web).type == "hub.identity.match_undone"


@pytest.fixture
def reports(web: Web) -> Web:
    """Sam named as perpetrator against two victims: a repeat case."""
    second = copy.deepcopy(EXAMPLES["police.incident"])
    second["id"] = "TEST-POLICE-INCIDENT-0002"
    second["data"]["subjects"] = [JO, PERPETRATOR]
    send(web, "TEST-POLICE-A", "police", EXAMPLES["police.incident"], second)
    send(web, "TEST-IDVA-A", "idva", EXAMPLES["risk.dash"])
    send(web, "TEST-MARAC-A", "marac", EXAMPLES["marac.case_heard"])
    process_stored(web.services)
    web.person("chair-any")
    web.log_in("chair-any")
    return web


def table_rows(text: str) -> list[list[str]]:
    body = text.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append(
            [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells[:-1]]
        )  # not the link
    return rows


@pytest.mark.parametrize(
    ("path", "params", "action"),
    [
        ("/reports/repeat", {}, "GET /v1/reports/repeat"),
        ("/reports/central-list", {"area": "TEST-AREA-NORTH", "week": "2026-W09"},
         "GET /v1/reports/central-list"),
    ],
)  # fmt: skip
def test_a_report_page_and_its_csv_have_the_same_rows(
    reports: Web, audit_log: InMemoryAuditLog, path: str, params: dict[str, str], action: str
) -> None:
    page = reports.client.get(path, params=params)
    assert page.status_code == 200, page.text
    assert "Sam" in page.text and last_audit(audit_log)["action"] == action
    shown = table_rows(page.text)
    assert shown
    download = reports.client.get(f"{path}.csv", params=params)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith("attachment")
    [header, *rows] = list(csv.reader(io.StringIO(download.text)))
    assert header[-1] == "Family" and [r[:-1] for r in rows] == shown
    assert last_audit(audit_log)["action"] == action


def test_the_central_list_says_what_is_wrong_with_a_week(reports: Web) -> None:
    r = reports.client.get("/reports/central-list", params={"area": "TEST-AREA-NORTH",
                                                            "week": "someday"})  # fmt: skip
    assert r.status_code == 400 and "govuk-error-summary" in r.text and 'href="#week"' in r.text
    r = reports.client.get("/reports/central-list.csv", params={"week": "2026-W09"})
    assert r.status_code == 400 and 'href="#area"' in r.text  # no area: no download


def test_a_chair_of_another_area_gets_none_of_the_areas_report(reports: Web) -> None:
    reports.client.cookies.clear()
    reports.person("chair-south", area="TEST-AREA-SOUTH")
    reports.log_in("chair-south")
    r = reports.client.get("/reports/central-list.csv", params={"week": "2026-W09"})
    assert r.status_code == 200 and list(csv.reader(io.StringIO(r.text)))[1:] == []
    r = reports.client.get("/reports/central-list", params={"area": "TEST-AREA-NORTH"})
    assert r.status_code == 403 and "Sam" not in r.text


def test_the_outcomes_page_and_its_csv_show_the_same_figures_and_no_one(
    reports: Web, audit_log: InMemoryAuditLog
) -> None:
    params = {"area": "TEST-AREA-NORTH", "start": "2026-03-01", "end": "2026-03-31"}
    page = reports.client.get("/reports/outcomes", params=params)
    assert page.status_code == 200, page.text
    assert "Sam" not in page.text and "Alex" not in page.text and "/families/" not in page.text
    assert last_audit(audit_log)["action"] == "GET /v1/reports/outcomes"
    body = page.text.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    shown = [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
    assert ["Marac hearings", "Heard with an action plan", "1", "1", "100%"] in shown
    download = reports.client.get("/reports/outcomes.csv", params=params)
    assert download.status_code == 200
    assert (
        "outcomes-TEST-AREA-NORTH-2026-03-01-2026-03-31.csv"
        in download.headers["content-disposition"]
    )
    [header, *rows] = list(csv.reader(io.StringIO(download.text)))
    assert header == ["Section", "Measure", "Number", "Out of", "Share"] and rows == shown


def test_the_outcomes_page_says_which_date_is_wrong(reports: Web) -> None:
    params = {"area": "TEST-AREA-NORTH", "start": "2026-04-01", "end": "2026-03-01"}
    r = reports.client.get("/reports/outcomes", params=params)
    assert r.status_code == 400 and 'href="#start"' in r.text and "after it ends" in r.text
    r = reports.client.get(
        "/reports/outcomes.csv", params=params | {"start": "2026-03-01", "end": "someday"}
    )
    assert r.status_code == 400 and 'href="#end"' in r.text  # no download


def test_a_chair_of_another_area_gets_none_of_the_areas_outcomes(reports: Web) -> None:
    reports.client.cookies.clear()
    reports.person("chair-south", area="TEST-AREA-SOUTH")
    reports.log_in("chair-south")
    r = reports.client.get("/reports/outcomes", params={"area": "TEST-AREA-NORTH"})
    assert r.status_code == 403
    mine = reports.client.get("/reports/outcomes.csv")
    assert mine.status_code == 200 and "Cases heard,0" in mine.text


def test_the_family_page_keeps_intake_and_exit_side_by_side(reports: Web) -> None:
    referral = copy.deepcopy(EXAMPLES["referral.made"])
    referral["id"], referral["data"] = "TEST-REFERRAL-IDVA", {"subjects": [VICTIM], "to": "idva"}
    referral["time"] = "2026-03-02T10:00:00Z"
    closure = copy.deepcopy(EXAMPLES["case.closed"])
    closure["data"]["reason"] = "not_able_to_engage"
    closure["time"] = "2026-03-20T10:00:00Z"
    for agency, kind, event in (("TEST-POLICE-A", "police", referral),
                                ("TEST-IDVA-A", "idva", closure)):  # fmt: skip
        key = reports.services.principals.add(f"{agency} case system", "agency_system", kind,
                                              agency)[1]  # fmt: skip
        r = reports.client.post(
            "/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 202, r.text
    process_stored(reports.services)
    found = family_id_of_token(reports.services.engine, token(reports, "nhs", "9990000001"))
    page = reports.client.get(f"/families/{found}")
    assert page.status_code == 200, page.text
    section = page.text.split('id="outcomes"', 1)[1].split('id="timeline"', 1)[0]
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))
    assert "referred to idva on 2 Mar 2026" in text
    assert "We were not able to engage the client into the service (18 days of support)" in text
    # intake (the police incident before the referral) beside exit (the service's answers)
    assert "Physical abuse Reported Stopped" in text
    assert "Coercive control abuse Reported Reduced" in text
    assert "Feeling safe Own view of the risk: high Feels safer" in text  # the Dash before
    assert "Children's exposure to abuse Children present at an incident Stopped" in text
    assert "refus" not in text.lower()
