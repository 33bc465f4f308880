"""IG tools end to end: disclosures made through the API, then queried by an IG officer over
the API and by `hub ig …` on the same database; the IG query is itself audited."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.contract.examples import EXAMPLES
from hub.entrypoints.stack import child_env
from tests.cli import Ran, run_hub
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.integration.test_disclosure_api import read, send, victim_token
from tests.unit.test_fhir_audit_event import check_r4_required

CLEAR = ("Alex Example", "Sam Sample", "9990000001", "TEST0000002", "1990-01-01")
IG_ROUTES = ("disclosures", "overrides", "outside-case", "anomalies")


class Scenario:
    """A chair reads a victim before any referral (outside a case), a referral on consent
    that was never recorded arrives, and the chair reads again with an override."""

    def __init__(self, api: Api) -> None:
        self.api = api
        chair, chair_key = api.services.principals.add(
            "Chair Example", "person", "marac_chair", None
        )
        self.chair_id = chair.principal_id
        self.chair = {"Authorization": f"Bearer {chair_key}"}
        send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"])
        self.token = victim_token(api)
        self.first_read = read(api, self.chair, self.token)["audit_record_id"]
        referral = copy.deepcopy(EXAMPLES["referral.made"]) | {
            "lawfulbasis": "ukgdpr-6-1-a", "consentref": "TEST-NEVER-RECORDED",
        }  # fmt: skip
        send(api, "TEST-IDVA-A", "idva", referral)
        self.override_read = read(
            api, self.chair, self.token,
            override_reason="consent_cannot_reasonably_be_obtained",
            justification="TEST: victim cannot be reached before the meeting.",
        )["audit_record_id"]  # fmt: skip
        self.ig = api.key("IG Example", "person", "ig_officer")

    def get(self, path: str, **params: str) -> dict | list:
        r = self.api.client.get(f"/v1/ig/{path}", headers=self.ig, params=params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def scenario(api: Api) -> Scenario:
    return Scenario(api)


def last_record(api: Api) -> dict:
    return json.loads(list(api.services.audit.records())[-1].body)


def test_an_ig_officer_finds_the_disclosures_overrides_and_reads_outside_a_case(
    scenario: Scenario,
) -> None:
    s = scenario
    about = s.get("disclosures", subject=s.token)
    chair_reads = [d for d in about if d["principal_id"] == s.chair_id]
    assert [d["record_id"] for d in chair_reads] == [s.first_read, s.override_read]
    assert all(d["outcome"] == "disclosed" for d in chair_reads)
    para18 = s.get("disclosures", basis="ukgdpr-9-2-g+dpa2018-sch1-para18")
    assert [d["record_id"] for d in para18] == [s.override_read]
    assert s.get("disclosures", principal="nobody") == []
    assert s.get("disclosures", until="2020-01-01T00:00:00Z") == []

    [override] = s.get("overrides")
    assert override["record_id"] == s.override_read
    assert override["overrides"][0]["reason"] == "consent_cannot_reasonably_be_obtained"

    [outside] = s.get("outside-case")  # the second read came after the referral opened a case
    assert outside["record_id"] == s.first_read
    assert outside["without_open_case"] == [s.token]
    assert s.get("anomalies") == {"outliers": [], "repeated_reads_without_case": []}
    assert s.api.services.audit.verify().ok


def test_the_subject_access_report_in_json_and_csv(scenario: Scenario) -> None:
    s = scenario
    report = s.get(f"subjects/{s.token}/report")
    assert report["subject"] == s.token
    reads = [r for r in report["records"] if r["outcome"] == "disclosed"]
    assert [r["record_id"] for r in reads] == [s.first_read, s.override_read]
    first, second = reads
    assert (first["who_role"], first["purpose"]) == ("marac_chair", "marac_case_preparation")
    assert first["lawful_bases"] == ["DPA 2018 Part 3 law enforcement processing"]
    assert any("Sch 1 para 18" in basis for basis in second["lawful_bases"])
    assert second["overrides"][0].startswith("consent cannot reasonably be obtained: TEST:")
    r = s.api.client.get(
        f"/v1/ig/subjects/{s.token}/report", headers=s.ig, params={"format": "csv"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    earlier, this_query = rows[:-1], rows[-1]  # the CSV request is on the log before it answers
    assert [row["record_id"] for row in earlier] == [row["record_id"] for row in report["records"]]
    assert (this_query["outcome"], this_query["who_role"]) == ("ig query", "ig_officer")
    for leaked in (*CLEAR, s.chair_id):
        assert leaked not in json.dumps(report) and leaked not in r.text


def test_each_ig_query_is_audited_before_the_answer(scenario: Scenario) -> None:
    s = scenario
    s.get(f"subjects/{s.token}/report")
    record = last_record(s.api)
    assert record["action"] == f"GET /v1/ig/subjects/{s.token}/report"
    assert (record["role"], record["outcome"]) == ("ig_officer", "ig query")
    assert record["subjects"] == [s.token] and record["purpose"] == "information_governance"
    for route in IG_ROUTES:
        s.get(route)
        assert last_record(s.api)["action"] == f"GET /v1/ig/{route}"


def test_only_ig_officers_query_and_each_refusal_is_audited(scenario: Scenario, api: Api) -> None:
    gp = api.key("GP Example", "person", "gp", "TEST-GP-A")
    for who in (scenario.chair, gp, api.key("TEST-IDVA-B", "agency_system", "idva")):
        for path in (*IG_ROUTES, f"subjects/{scenario.token}/report"):
            before = len(list(api.services.audit.records()))
            r = api.client.get(f"/v1/ig/{path}", headers=who)
            assert r.status_code == 403, path
            assert "IG officers" in detail_text(r)
            assert len(list(api.services.audit.records())) == before + 1
            refused = last_record(api)
            assert (refused["outcome"], refused["decisions"]) == ("refused", [])
            assert refused["action"].startswith("GET /v1/ig/")
    assert api.client.get("/v1/ig/overrides").status_code == 401


def test_an_ig_query_is_refused_when_it_cannot_be_audited(scenario: Scenario) -> None:
    with scenario.api.services.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    r = scenario.api.client.get(f"/v1/ig/subjects/{scenario.token}/report", headers=scenario.ig)
    assert r.status_code == 503 and "audit" in detail_text(r)


# --- the same through `hub ig …` -----------------------------------------------------------


def hub_ig(api: Api, *args: str) -> Ran:
    return run_hub("ig", *args, env=child_env(api.services.settings))


def lines(out: Ran) -> list[dict]:
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_the_cli_answers_the_same_queries(scenario: Scenario, tmp_path: Path) -> None:
    s, api = scenario, scenario.api
    sar = tmp_path / "sar.csv"
    out = hub_ig(api, "sar", s.token, "--format", "csv", "--out", str(sar))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(sar.read_text("utf-8"))))
    assert [r["record_id"] for r in rows if r["outcome"] == "disclosed"] == [
        s.first_read, s.override_read,
    ]  # fmt: skip
    cli_record = last_record(api)
    assert cli_record["action"] == "hub ig sar" and cli_record["principal_kind"] == "operator"
    assert cli_record["subjects"] == [s.token]

    as_json = json.loads(hub_ig(api, "sar", s.token).stdout)
    assert as_json["subject"] == s.token and len(as_json["records"]) == len(rows) + 1
    assert [d["record_id"] for d in lines(hub_ig(api, "overrides"))] == [s.override_read]
    assert [d["record_id"] for d in lines(hub_ig(api, "outside-case"))] == [s.first_read]
    chair = lines(hub_ig(api, "disclosures", "--principal", s.chair_id, "--since", "2026-01-01"))
    assert [d["record_id"] for d in chair] == [s.first_read, s.override_read]
    anomalies = json.loads(hub_ig(api, "anomalies", "--until", "2020-01-01").stdout)
    assert anomalies == {"outliers": [], "repeated_reads_without_case": []}

    bad = hub_ig(api, "sar", "Alex Example")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "st_" in bad.stderr
    when = hub_ig(api, "disclosures", "--since", "last tuesday")
    assert when.returncode == 2 and "ISO date" in when.stderr


def test_every_audit_record_exports_as_a_fhir_audit_event(
    scenario: Scenario, tmp_path: Path
) -> None:
    api = scenario.api
    scenario.get(f"subjects/{scenario.token}/report")
    ndjson = tmp_path / "audit.ndjson"
    out = hub_ig(api, "export-fhir", str(ndjson))
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in ndjson.read_text("utf-8").splitlines()]
    records = list(api.services.audit.records())
    assert [e["id"] for e in events] == [r.record_id for r in records]  # the export's own too
    for event in events:
        check_r4_required(event)
    subtypes = [e["subtype"][0]["code"] for e in events]
    assert subtypes[:2] == ["read", "read"] and "search" in subtypes
    text_ = ndjson.read_text("utf-8")
    for leaked in CLEAR:
        assert leaked not in text_


def test_every_kind_of_record_the_hub_writes_is_a_valid_fhir_r4_audit_event(
    scenario: Scenario, tmp_path: Path
) -> None:
    """Each kind of record (disclosed, refused, IG query over the API and the CLI, access
    requested / listed / granted / refused, an operator report, the export's own record)
    through a real R4 validator: a FHIR string may not be empty, and records without items or
    fields were exported with empty details."""
    s, api = scenario, scenario.api
    client = api.client
    client.get(f"/v1/subjects/{s.token}/events", headers=s.ig)  # refused: IG sees no content
    gp = api.key("GP Example", "person", "gp", "TEST-GP-A")
    officer = api.key("PC Example", "person", "police", "TEST-POLICE-A")
    incident = read(api, officer, s.token)["events"][0]["hub_id"]
    ask = {"subject": s.token, "items": [incident], "purpose": "safeguarding_review",
           "reason": "TEST: need the incident's context."}  # fmt: skip
    for grant in (True, False):
        r = client.post("/v1/requests", json=ask, headers=gp)
        assert r.status_code == 201, r.text
        decision = {"grant": grant, "reason": "TEST: need to know established."}
        url = f"/v1/requests/{r.json()['request_id']}/decision"
        assert client.post(url, json=decision, headers=officer).status_code == 200
    assert client.get("/v1/requests", headers=officer).status_code == 200
    s.get("disclosures", subject=s.token)
    assert run_hub("reports", "repeat", env=child_env(api.services.settings)).returncode == 0
    ndjson = tmp_path / "audit.ndjson"
    assert hub_ig(api, "export-fhir", str(ndjson)).returncode == 0

    events = [json.loads(line) for line in ndjson.read_text("utf-8").splitlines()]
    kinds = {(json.loads(r.body)["outcome"]) for r in api.services.audit.records()}
    assert kinds >= {
        "disclosed", "refused", "ig query", "access requested", "access requests listed",
        "access granted", "access refused", "operator report",
    }  # fmt: skip
    for event in events:
        check_r4_required(event)  # fhir.resources' model: raises on any invalid element
    assert any(e["outcomeDesc"] == "operator report" for e in events)
