"""The IG officer's pages in real headless Chromium (as tests/e2e/test_browser.py drives the
chair's), against a real hub (embedded broker, worker, API). A chair opens a family from the
inbox, then finds every IG page closed to her (403, each refusal on the audit log). An IG
officer named in HUB_IG_NAME_RESOLVERS finds the victim by name, date of birth and postcode,
opens the chair's read, downloads its inclusion proof and the test checks it with the hub's
verifier (what `hub audit check-proof` runs); she verifies the log now and sees the result,
downloads the subject access report and a FHIR export, and reads the consent and access
request pages. axe-core checks every IG page on the way (no serious or critical violation)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from audit.checkpoint import load_checkpoint_public_key
from audit.proofs import check_inclusion_document
from audit.schema import audit_records
from hub.adapters.sql.db import make_engine
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract.examples import EXAMPLES
from hub.settings import Settings
from tests.e2e.test_browser import LIVE_DEADLINE_MS, PASSWORD, accessible, browser  # noqa: F401
from tests.integration.conftest import (  # noqa: F401 - fixtures
    RunningHub,
    broker,
    hub_settings,
    running_hub_for,
)

CHAIR, OFFICER = "Chair Example", "IG Example"
IG_PAGES = ("/ig/disclosures", "/ig/find", "/ig/integrity", "/ig/subjects", "/ig/anomalies",
            "/ig/requests", "/ig/consent", "/ig/export")  # fmt: skip


@pytest.fixture
def ig_hub(hub_settings: Settings) -> Iterator[RunningHub]:  # noqa: F811 - the fixture
    """The running hub, with the IG officer allowed to find people by name."""
    yield from running_hub_for(hub_settings.model_copy(update={"ig_name_resolvers": OFFICER}))


def recent_records(hub: RunningHub, n: int) -> list[dict[str, Any]]:
    """The newest n audit records, newest first."""
    engine = make_engine(hub.settings.effective_database_url)
    try:
        with engine.connect() as conn:
            bodies = conn.execute(
                select(audit_records.c.body).order_by(audit_records.c.seq.desc()).limit(n)
            ).scalars()
            return [dict(json.loads(b)) for b in bodies]
    finally:
        engine.dispose()


def last_record(hub: RunningHub) -> dict[str, Any]:
    return recent_records(hub, 1)[0]


def log_in(page: Any, base: str, name: str, lands_on: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}{lands_on}")


def download(page: Any, selector: str, into: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    target = into / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_an_ig_officer_traces_a_chairs_read_and_a_chair_is_kept_out(
    ig_hub: RunningHub,
    browser: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    hub = ig_hub
    engine = make_engine(hub.settings.effective_database_url)
    principals, logins = SqlPrincipalStore(engine), SqlLoginStore(engine)
    for name, role in ((CHAIR, "marac_chair"), (OFFICER, "ig_officer")):
        principals.add(name, "person", role, None)
        logins.set_password(name, PASSWORD)
    police = principals.add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")[1]
    gp = principals.add("GP Example", "person", "gp", "TEST-GP-A")[1]
    engine.dispose()
    base = str(hub.http.base_url).rstrip("/")
    incident = copy.deepcopy(EXAMPLES["police.incident"])
    incident["data"]["subjects"][0]["postcode"] = "TE1 1AA"  # with name and birth: findable
    sent = hub.http.post("/v1/events", json=incident, headers={"Authorization": f"Bearer {police}"})
    assert sent.status_code == 202, sent.text

    # A chair opens the family from the alert the incident raises (children present)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    log_in(page, base, CHAIR, "/alerts")
    page.wait_for_selector("tr[data-alert-id]", timeout=LIVE_DEADLINE_MS)
    page.locator("tr[data-alert-id] a:has-text('Open the family')").first.click()
    page.wait_for_selector("#genogram")
    family_read = last_record(hub)
    assert family_read["role"] == "marac_chair" and family_read["outcome"] == "disclosed"

    # ... and is refused every IG page, each refusal audited
    for path in IG_PAGES:
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 403, path
        assert "You cannot see this" in page.locator("h1").inner_text()
        refused = last_record(hub)
        assert (refused["outcome"], refused["role"], refused["decisions"]) == (
            "refused", "marac_chair", [],
        ), path  # fmt: skip
    page.click("button:has-text('Log out')")

    # The IG officer finds the victim by name, date of birth and postcode
    log_in(page, base, OFFICER, "/ig/disclosures")
    accessible(page)
    page.click("#find-link")
    page.wait_for_url(f"{base}/ig/find")
    accessible(page)
    page.fill("#name", "Alex Example")
    page.click("button:has-text('Find')")
    assert page.locator(".govuk-error-summary").count() == 1  # all three together
    accessible(page)
    page.fill("#date_of_birth", "1990-01-01")
    page.fill("#postcode", "TE1 1AA")
    page.click("button:has-text('Find')")
    page.wait_for_selector("#found")
    accessible(page)
    victim = family_read["subjects"]
    [token] = [t for t in page.locator("#found .hub-token").all_inner_texts()]
    assert token in victim
    assert "Alex Example" not in json.dumps(last_record(hub))

    # ... opens the chair's read of the family and proves it is in the signed log
    page.click(f"#disclosures-{token}")
    page.wait_for_selector("#disclosures")
    accessible(page)
    page.click(f"#open-{family_read['record_id']}")
    page.wait_for_selector("#decisions")
    accessible(page)
    proof = json.loads(download(page, "#proof", tmp_path).read_text())
    pem = download(page, "a:has-text('Download the public key')", tmp_path)
    assert proof["record_id"] == family_read["record_id"]
    assert check_inclusion_document(proof, load_checkpoint_public_key(pem)) is None
    tampered = copy.deepcopy(proof)
    tampered["entry"] = tampered["entry"].replace("marac_chair", "marac_coordinator")
    assert check_inclusion_document(tampered, load_checkpoint_public_key(pem)) is not None

    # Verify now: the progress ends in a result on the page
    page.click("#navigation a:has-text('Integrity')")
    page.wait_for_url(f"{base}/ig/integrity")
    accessible(page)
    page.click("#verify-now")
    page.wait_for_selector("#verify-result:has-text('Whole')", timeout=LIVE_DEADLINE_MS)
    accessible(page)

    # The subject access report, on the page and as a download
    page.goto(f"{base}/ig/subjects?subject={token}")
    page.wait_for_selector("#sar")
    accessible(page)
    report = json.loads(download(page, "#sar-json", tmp_path).read_text())
    assert family_read["record_id"] in [r["record_id"] for r in report["records"]]

    # Consent; a GP's request for more, refused with a reason; anomalies
    page.goto(f"{base}/ig/consent?subject={token}")
    page.wait_for_selector("#no-consents")
    accessible(page)
    ask = {"subject": token, "items": [sent.json()["hub_id"]], "purpose": "safeguarding_review",
           "reason": "Patient disclosed fear at appointment; need context."}  # fmt: skip
    asked = hub.http.post("/v1/requests", json=ask, headers={"Authorization": f"Bearer {gp}"})
    assert asked.status_code == 201, asked.text
    request = f"#request-{asked.json()['request_id']}"
    page.click("#navigation a:has-text('Access requests')")
    page.wait_for_selector(f"{request}[data-status='open']")
    accessible(page)
    page.click(f"{request} button:has-text('Send the answer')")
    assert page.locator(".govuk-error-summary li").count() == 2  # no answer, no reason
    accessible(page)
    page.check(f"{request} input[value='refuse']")
    page.fill(f"{request} textarea", "Involvement is enough for this review.")
    page.click(f"{request} button:has-text('Send the answer')")
    page.wait_for_selector(f"{request}[data-status='refused']")
    accessible(page)
    answers = [r for r in recent_records(hub, 5) if r["action"] == "access refused"]
    assert [r["role"] for r in answers] == ["ig_officer"]
    for label, path, mark in (("Anomalies", "/ig/anomalies", "h1"),
                              ("Subject access", "/ig/subjects", "#subject")):  # fmt: skip
        page.click(f"#navigation a:has-text('{label}')")
        page.wait_for_url(f"{base}{path}")
        page.wait_for_selector(mark)
        accessible(page)

    # The FHIR export of a period: a valid R4 bundle holding the chair's read
    page.click("#navigation a:has-text('Export')")
    page.wait_for_url(f"{base}/ig/export")
    accessible(page)
    page.fill("#since", "2020-01-01")
    bundle = json.loads(download(page, "#export", tmp_path).read_text())
    Bundle.model_validate(bundle)
    assert family_read["record_id"] in [e["resource"]["id"] for e in bundle["entry"]]
