"""The error answers schemathesis found wrong (issue 12, defect 6), pinned one by one: dates
are ISO 8601 text only, a body that is not JSON names the body, and every error has the one
shape the document states."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/v1/alerts?to=0", "to"),
        ("/v1/alerts?from=20260301", "from"),
        ("/v1/marac/agenda?area=default&since=0", "since"),
        ("/v1/reports/repeat?as_of=0.5", "as_of"),
        ("/v1/reports/repeat?as_of=2026-03-01", "as_of"),  # an instant needs its time
        ("/v1/ig/overrides?since=1700000000", "since"),
    ],
)
def test_a_number_is_not_a_date(api: Api, chair, url: str, param: str) -> None:
    r = api.client.get(url, headers=chair)
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["path"] == f"query.{param}"
    assert "ISO 8601" in problem["msg"] or "RFC 3339" in problem["msg"]


def test_iso_dates_are_taken(api: Api, chair) -> None:
    r = api.client.get("/v1/alerts?from=2026-03-01&to=2026-03-31", headers=chair)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/v1/requests", "/v1/alerts/" + "0" * 36 + "/agenda"])
def test_a_body_that_is_not_utf8_json_is_a_422_naming_the_body(api: Api, chair, path) -> None:
    headers = chair | {"Content-Type": "application/json"}
    r = api.client.post(path, content=b"RV\x82", headers=headers)
    assert r.status_code == 422, r.text
    assert [p["path"] for p in r.json()["detail"]] == ["(body)"]


def test_malformed_json_is_not_reported_at_a_byte_offset(api: Api, chair) -> None:
    headers = chair | {"Content-Type": "application/json"}
    r = api.client.post("/v1/requests", content=b'{"subject": "st_x", "items": [', headers=headers)
    assert r.status_code == 422
    [problem] = r.json()["detail"]
    assert problem["path"] == "(body)" and problem["loc"] == ["body"]
    assert problem["type"] == "json_invalid" and "not valid JSON" in problem["msg"]


def test_every_refusal_has_the_one_error_shape(api: Api, police, chair) -> None:
    answers = [
        api.client.get("/v1/requests"),  # 401
        api.client.get("/v1/alerts", headers=police),  # 403
        api.client.post(f"/v1/alerts/{'0' * 36}/acknowledge", headers=chair),  # 404
        api.client.delete("/v1/requests", headers=chair),  # 405
    ]
    assert [r.status_code for r in answers] == [401, 403, 404, 405]
    for r in answers:
        [problem] = r.json()["detail"]
        assert set(problem) == {"loc", "path", "msg", "type"} and problem["msg"]
    assert answers[3].headers["Allow"] == "GET, POST"


def test_the_document_states_the_errors_of_access_requests(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/v1/requests", "get"),
        ("/v1/requests", "post"),
        ("/v1/requests/{request_id}/decision", "post"),
    ]:
        responses = paths[path][method]["responses"]
        assert {"401", "403"} <= set(responses), (path, method)
        error = responses["401"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert "404" in paths["/v1/requests/{request_id}/decision"]["post"]["responses"]
    assert "415" in paths["/v1/requests"]["post"]["responses"]
