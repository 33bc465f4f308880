"""The IG officer's pages: login required, IG officers only (a chair gets 403, audited as
refused), CSRF on "verify now", each page's query on the audit log; the disclosures search
finds a chair's reads of a subject, a record's proof verifies with `hub audit check-proof`,
verify-now reports the result, and the SAR and FHIR downloads are what they say."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.adapters.sql.logins import SqlLoginStore
from hub.entrypoints.stack import child_env
from tests.cli import run_hub
from tests.integration.conftest import Api, wait_for
from tests.integration.test_ig import CLEAR, Scenario, last_record

PASSWORD = "correct horse battery staple"
PAGES = ("/ig/disclosures", "/ig/integrity", "/ig/subjects", "/ig/anomalies", "/ig/export",
         "/ig/integrity/public-key.pem")  # fmt: skip
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(api: Api, name: str, role: str) -> None:
    api.services.principals.add(name, "person", role, None)
    SqlLoginStore(api.services.engine).set_password(name, PASSWORD)
    api.client.cookies.clear()
    form = api.client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None
    r = api.client.post("/login", data={"csrf_token": token.group(1), "name": name,
                        "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


@pytest.fixture
def scenario(api: Api) -> Scenario:
    return Scenario(api)


def test_the_ig_pages_need_a_login(api: Api) -> None:
    for path in PAGES:
        r = api.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_a_chair_is_refused_every_ig_page_and_each_refusal_is_audited(api: Api) -> None:
    log_in(api, "chair-web", "marac_chair")
    for path in PAGES:
        r = api.client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 403, path
        record = last_record(api)
        assert (record["outcome"], record["role"], record["decisions"]) == (
            "refused", "marac_chair", [],
        ), path  # fmt: skip


def test_an_ig_officer_finds_a_chairs_reads_and_proves_one(
    scenario: Scenario, tmp_path: Path
) -> None:
    s, api = scenario, scenario.api
    log_in(api, "ig-web", "ig_officer")
    page = api.client.get("/ig/disclosures", params={"subject": s.token})
    assert page.status_code == 200
    assert last_record(api)["action"] == "GET /v1/ig/disclosures"
    assert last_record(api)["subjects"] == [s.token]
    found = re.findall(r'id="open-([0-9a-f-]{36})"', page.text)
    reads = [f for f in found if f in (s.first_read, s.override_read)]
    assert reads == [s.override_read, s.first_read]  # newest first
    assert found[0] == last_record(api)["record_id"]  # this very search is on the log too
    assert "Overridden (Sch 1 para 18)" in page.text
    only = api.client.get("/ig/disclosures", params={"subject": s.token, "decision": "overridden"})
    assert re.findall(r'id="open-([0-9a-f-]{36})"', only.text) == [s.override_read]

    detail = api.client.get(f"/ig/records/{s.override_read}")
    assert detail.status_code == 200
    read = next(json.loads(r.body) for r in api.services.audit.records()
                if r.record_id == s.override_read)  # fmt: skip
    listed = re.findall(r'hub-token">([0-9a-f-]{36})<', detail.text)
    assert len(listed) == len(read["items"]) == 2 and set(listed) == set(read["items"])
    assert (
        "Schedule 1 paragraph 18" in detail.text and "TEST: victim cannot be reached" in detail.text
    )
    for leaked in CLEAR:
        assert leaked not in detail.text and leaked not in page.text

    proof = api.client.get(f"/ig/records/{s.override_read}/proof.json")
    assert proof.status_code == 200 and "attachment" in proof.headers["content-disposition"]
    key = api.client.get("/ig/integrity/public-key.pem")
    (tmp_path / "proof.json").write_bytes(proof.content)
    (tmp_path / "hub-audit.pem").write_bytes(key.content)
    pem, env = str(tmp_path / "hub-audit.pem"), child_env(api.services.settings)
    out = run_hub(
        "audit", "check-proof", str(tmp_path / "proof.json"), "--public-key", pem, env=env
    )
    assert out.returncode == 0, out.stderr
    assert s.override_read in out.stdout


def test_a_search_is_paged_by_keyset(scenario: Scenario) -> None:
    api = scenario.api
    log_in(api, "ig-web", "ig_officer")
    seen: list[str] = []
    url: str | None = "/ig/disclosures?role=marac_chair&limit=1"
    pages = 0
    while url and pages < 50:
        page = api.client.get(url.replace("&amp;", "&"))
        seen += re.findall(r'id="open-([0-9a-f-]{36})"', page.text)
        more = re.search(r'href="(/ig/disclosures\?[^"]+)" rel="next"', page.text)
        url = more.group(1) if more else None
        pages += 1
    assert pages == len(seen) >= 2  # one record a page, each once
    reads = [f for f in seen if f in (scenario.first_read, scenario.override_read)]
    assert reads == [scenario.override_read, scenario.first_read]
    assert len(seen) == len(set(seen))


def test_verify_now_needs_the_csrf_token_and_reports_the_result(scenario: Scenario) -> None:
    api = scenario.api
    log_in(api, "ig-web", "ig_officer")
    assert api.client.post("/ig/integrity/verify", data={}).status_code == 403
    page = api.client.get("/ig/integrity")
    assert "Latest signed checkpoint" in page.text
    token = CSRF.findall(page.text)[-1]
    r = api.client.post("/ig/integrity/verify", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert last_record(api)["action"] == "POST /v1/ig/integrity/verify"

    def finished() -> str | None:
        text = api.client.get("/ig/integrity").text
        return text if 'id="verify-result"' in text else None

    text = wait_for(finished, what="verification to finish")
    assert "Whole" in text and "every record, root and signature is as signed" in text


def test_subject_access_report_as_page_json_and_csv(scenario: Scenario) -> None:
    s, api = scenario, scenario.api
    log_in(api, "ig-web", "ig_officer")
    page = api.client.get("/ig/subjects", params={"subject": s.token})
    assert page.status_code == 200 and "@media print" not in page.text and 'id="sar"' in page.text
    as_json = api.client.get("/ig/subjects", params={"subject": s.token, "format": "json"})
    report = as_json.json()
    assert report["subject"] == s.token
    reads = [r["record_id"] for r in report["records"] if r["outcome"] == "disclosed"]
    assert reads == [s.first_read, s.override_read]
    as_csv = api.client.get("/ig/subjects", params={"subject": s.token, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["record_id"] for r in rows if r["outcome"] == "disclosed"] == reads
    bad = api.client.get("/ig/subjects", params={"subject": "Alex Example"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.text


def test_the_fhir_export_of_a_period_is_a_valid_r4_bundle(scenario: Scenario) -> None:
    api = scenario.api
    log_in(api, "ig-web", "ig_officer")
    r = api.client.get("/ig/export", params={"download": "1", "since": "2020-01-01"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    Bundle.model_validate(bundle)
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert scenario.first_read in ids and scenario.override_read in ids
    empty = api.client.get("/ig/export", params={"download": "1", "until": "2020-01-01"}).json()
    Bundle.model_validate(empty)
    assert "entry" not in empty


def test_anomalies_page_links_each_reader_to_their_disclosures(scenario: Scenario) -> None:
    api = scenario.api
    log_in(api, "ig-web", "ig_officer")
    page = api.client.get("/ig/anomalies")
    assert page.status_code == 200 and "Repeated reads without an open case" in page.text
    assert last_record(api)["action"] == "GET /v1/ig/anomalies"
    assert json.dumps(last_record(api))  # the query itself is on the log
