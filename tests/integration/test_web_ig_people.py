"""The IG officer's pages about people: finding a person's tokens by name or identifier (only
for the officers named in HUB_IG_NAME_RESOLVERS, each resolution audited without what was
typed), a subject's consent records and withdrawals, and the access-request queue where an
IG officer grants or refuses with a reason (audited; the requester then sees the item)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.adapters.crypto.tokens import Tokeniser
from hub.contract.examples import EXAMPLES
from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests.integration.conftest import Api
from tests.integration.test_disclosure_api import read, send
from tests.integration.test_ig import last_record
from tests.integration.test_web_ig_pages import CSRF, log_in
from tests.processing import process_stored

FINDER, OFFICER = "IG Finder", "IG Example"
ALEX = {"name": "alex  EXAMPLE", "date_of_birth": "1990-01-01", "postcode": "te1 1aa"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, ig_name_resolvers=f"{FINDER}, someone else")
    app = create_app(settings)
    with TestClient(app) as client:
        yield Api(client, app.state.services)


def victim(api: Api) -> str:
    return Tokeniser(api.services.ingress.tokeniser._key).token("nhs", "9990000001")


def incident_with_postcode(api: Api) -> None:
    incident = copy.deepcopy(EXAMPLES["police.incident"])
    incident["data"]["subjects"][0]["postcode"] = "TE1 1AA"
    send(api, "TEST-POLICE-A", "police", incident)
    process_stored(api.services)  # link the subjects into the person index


def csrf(api: Api, path: str) -> str:
    found = CSRF.findall(api.client.get(path).text)
    assert found, path
    return str(found[-1])


def test_a_named_officer_finds_a_person_by_name_and_the_log_holds_no_name(api: Api) -> None:
    incident_with_postcode(api)
    log_in(api, FINDER, "ig_officer")
    form = api.client.get("/ig/find")
    assert form.status_code == 200 and 'name="postcode"' in form.text
    token = csrf(api, "/ig/find")
    r = api.client.post("/ig/find", data={"csrf_token": token, **ALEX})
    assert r.status_code == 200, r.text
    assert re.findall(r'id="disclosures-(st_[a-z2-7]{32})"', r.text) == [victim(api)]
    record = last_record(api)
    assert (record["action"], record["outcome"], record["subjects"]) == (
        "POST /ig/find", "ig query", [victim(api)],
    )  # fmt: skip
    assert record["fields"] == ["date_of_birth", "name", "postcode"]
    assert "Example" not in json.dumps(record) and "TE1" not in json.dumps(record).upper()

    by_nhs = api.client.post("/ig/find", data={"csrf_token": token, "nhs_number": "9990000001"})
    assert re.findall(r'id="disclosures-(st_[a-z2-7]{32})"', by_nhs.text) == [victim(api)]
    nobody = api.client.post("/ig/find", data={"csrf_token": token, **ALEX, "postcode": "TE9 9ZZ"})
    assert nobody.status_code == 200 and "Nobody found" in nobody.text
    assert last_record(api)["subjects"] == []  # the miss is on the log too
    partial = api.client.post("/ig/find", data={"csrf_token": token, "name": "Alex Example"})
    assert partial.status_code == 400 and "govuk-error-summary" in partial.text
    assert "postcode together" in partial.text


def test_an_officer_not_named_may_not_resolve_names_and_is_refused_audited(api: Api) -> None:
    incident_with_postcode(api)
    log_in(api, OFFICER, "ig_officer")
    assert 'id="not-allowed"' in api.client.get("/ig/find").text
    token = csrf(api, "/ig/disclosures")
    r = api.client.post(
        "/ig/find", data={"csrf_token": token, **ALEX}, headers={"Accept": "text/html"}
    )
    assert r.status_code == 403 and "HUB_IG_NAME_RESOLVERS" in r.text
    record = last_record(api)
    assert (record["action"], record["outcome"], record["subjects"]) == (
        "POST /ig/find", "refused", [],
    )  # fmt: skip


def test_consent_records_and_withdrawals_of_a_subject(api: Api) -> None:
    other = copy.deepcopy(EXAMPLES["consent.recorded"]) | {
        "id": "TEST-CONSENT-RECORDED-0002", "consentref": "TEST-CONSENT-0002",
    }  # fmt: skip
    send(api, "TEST-IDVA-A", "idva", EXAMPLES["consent.recorded"], other,
         EXAMPLES["consent.withdrawn"])  # fmt: skip
    log_in(api, OFFICER, "ig_officer")
    page = api.client.get("/ig/consent", params={"subject": victim(api)})
    assert page.status_code == 200
    rows = dict(re.findall(r'data-consent-ref="([^"]+)">(.*?)</tr>', page.text, re.S))
    assert set(rows) == {"TEST-CONSENT-0001", "TEST-CONSENT-0002"}
    assert "Withdrawn" in rows["TEST-CONSENT-0001"] and "Given" in rows["TEST-CONSENT-0002"]
    assert "Marac case preparation" in rows["TEST-CONSENT-0002"]
    assert "to 1 Mar 2027" in rows["TEST-CONSENT-0002"]
    record = last_record(api)
    assert (record["action"], record["subjects"]) == (
        f"GET /ig/consent/{victim(api)}",
        [victim(api)],
    )
    bad = api.client.get("/ig/consent", params={"subject": "Alex Example"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.text


def test_an_ig_officer_answers_an_access_request_with_a_reason(api: Api) -> None:
    send(api, "TEST-POLICE-A", "police", EXAMPLES["police.incident"])
    [item] = [e.hub_id for _, e in api.services.ingress.store.read(0, 10)]
    gp = api.key("GP Example", "person", "gp", "TEST-GP-A")
    ask = {"subject": victim(api), "items": [item], "purpose": "safeguarding_review",
           "reason": "Patient disclosed fear at appointment; need context."}  # fmt: skip
    r = api.client.post("/v1/requests", json=ask, headers=gp)
    assert r.status_code == 201, r.text
    request_id = r.json()["request_id"]
    assert read(api, gp, victim(api))["events"][0]["data"] == {}  # involvement only

    log_in(api, OFFICER, "ig_officer")
    queue = api.client.get("/ig/requests")
    assert (
        queue.status_code == 200 and f'id="request-{request_id}" data-status="open"' in queue.text
    )
    token = csrf(api, "/ig/requests")
    no_reason = api.client.post(f"/ig/requests/{request_id}",
                                data={"csrf_token": token, "decision": "grant"})  # fmt: skip
    assert no_reason.status_code == 400 and f'href="#reason-{request_id}"' in no_reason.text
    answer = {"csrf_token": token, "decision": "grant", "reason": "Safeguarding need is shown."}
    done = api.client.post(f"/ig/requests/{request_id}", data=answer, follow_redirects=False)
    assert done.status_code == 303
    record = last_record(api)
    assert (record["action"], record["role"], record["items"]) == (
        "access granted", "ig_officer", [item],
    )  # fmt: skip
    after = api.client.get(done.headers["location"])
    assert f'id="request-{request_id}" data-status="granted"' in after.text
    assert "Safeguarding need is shown." in after.text
    assert read(api, gp, victim(api))["events"][0]["data"] != {}  # the GP now sees it
    again = api.client.post(f"/ig/requests/{request_id}", data=answer,
                            headers={"Accept": "text/html"})  # fmt: skip
    assert again.status_code == 409


def test_a_chair_is_refused_the_people_pages_each_refusal_audited(api: Api) -> None:
    log_in(api, "chair-web", "marac_chair")
    token = csrf(api, "/alerts")
    for method, path in (("GET", "/ig/find"), ("GET", "/ig/consent"), ("GET", "/ig/requests"),
                         ("POST", "/ig/find"), ("POST", f"/ig/requests/{'0' * 36}")):  # fmt: skip
        data = {"csrf_token": token, "decision": "grant", "reason": "because", **ALEX}
        r = api.client.request(method, path, data=data if method == "POST" else None,
                               headers={"Accept": "text/html"})  # fmt: skip
        assert r.status_code == 403, path
        record = last_record(api)
        assert (record["outcome"], record["role"], record["decisions"]) == (
            "refused", "marac_chair", [],
        ), path  # fmt: skip
