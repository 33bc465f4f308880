"""The HTTP API on a real SQLite database, without a broker (the outbox keeps the events)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from hub.adapters.sql.schema import events, outbox
from hub.domain.events import CanonicalEvent
from tests import builders as b
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.processing import process_stored


def stored_bodies(api: Api) -> list[str]:
    with api.services.engine.connect() as conn:
        return list(conn.execute(select(events.c.body)).scalars()) + list(
            conn.execute(select(outbox.c.value)).scalars()
        )


def test_an_accepted_event_is_stored_with_its_outbox_row_before_202(api: Api, police) -> None:
    event = b.incident()
    r = api.client.post("/v1/events", json=event, headers=police)
    assert r.status_code == 202, r.text
    assert r.json()["id"] == event["id"]
    with api.services.engine.connect() as conn:
        assert conn.execute(select(events.c.source_id)).scalars().all() == [event["id"]]
        assert len(conn.execute(select(outbox.c.seq)).all()) == 1


def test_no_personal_identifier_is_stored_or_queued_in_clear(api: Api, police) -> None:
    r = api.client.post("/v1/events", json=b.incident(), headers=police)
    assert r.status_code == 202
    for body in stored_bodies(api):
        for clear in ("Alex Example", "Sam Sample", "9990000001", "TEST00000002"):
            assert clear not in body
        assert json.loads(body)["subjects"][0]["token"].startswith("st_")


def test_the_same_event_id_twice_is_stored_once_and_answered_the_same(api: Api, police) -> None:
    event = b.incident()
    first = api.client.post("/v1/events", json=event, headers=police)
    second = api.client.post("/v1/events", json=event, headers=police)
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert second.headers["Hub-Duplicate"] == "true"
    assert "Hub-Duplicate" not in first.headers
    assert len(stored_bodies(api)) == 2  # one event row and one outbox row


def test_a_reused_event_id_with_different_content_is_a_conflict(api: Api, police) -> None:
    event = b.incident()
    assert api.client.post("/v1/events", json=event, headers=police).status_code == 202
    event["data"]["injuries"] = True
    r = api.client.post("/v1/events", json=event, headers=police)
    assert r.status_code == 409
    assert "new id" in detail_text(r)


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer hubk_000000000000_wrong"])
def test_requests_without_a_valid_key_get_401(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = api.client.post("/v1/events", json=b.incident(), headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert stored_bodies(api) == []


def test_an_agency_may_only_send_the_event_types_its_type_allows(api: Api) -> None:
    ae = api.key("TEST-AE-A", "agency_system", "health_ae")
    r = api.client.post("/v1/events", json=b.incident(), headers=ae)
    assert r.status_code == 403
    detail = detail_text(r)
    assert "'health_ae' may not send 'police.incident'" in detail
    assert "referral.made" in detail
    assert stored_bodies(api) == []


def _short_dash() -> dict:
    event = b.dash(14)
    event["data"]["answers"] = ["yes"] * 23
    return event


@pytest.mark.parametrize(
    ("event", "path"),
    [
        (b.dash(14, subjects=[b.perpetrator()]), "data.subjects"),
        (_short_dash(), "data.answers"),
        (b.incident(time="2026-03-01T10:00:00"), "time"),
        (b.incident(lawfulbasis=None), "(body)"),
        (b.incident(specversion="0.3"), "specversion"),
        (b.referral(to="nowhere"), "data.to"),
    ],
)
def test_invalid_events_get_422_naming_the_field_path(api: Api, police, event, path) -> None:
    r = api.client.post("/v1/events", json=event, headers=police)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["path"] == path for e in errors), errors
    assert all("input" not in e for e in errors)  # submitted values are not echoed back
    assert stored_bodies(api) == []


def test_an_unknown_event_type_is_named_in_the_error(api: Api, police) -> None:
    r = api.client.post("/v1/events", json=b.incident(type="police.rumour"), headers=police)
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["path"] == "type"
    assert "'police.rumour'" in error["msg"]
    assert "'risk.dash'" in error["msg"]  # and it lists the types that exist


def test_a_future_dated_event_is_refused_with_the_time_field(api: Api, police) -> None:
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = api.client.post("/v1/events", json=b.incident(time=future), headers=police)
    assert r.status_code == 422
    assert r.json()["detail"][0]["path"] == "time"
    assert "future" in r.json()["detail"][0]["msg"]


def raise_alert_for(api: Api, idva: dict[str, str], yes: int = 15) -> CanonicalEvent:
    """Send a Dash over HTTP, then project it as the worker would (no broker here)."""
    event = b.dash(yes)
    assert api.client.post("/v1/events", json=event, headers=idva).status_code == 202
    stored = api.services.ingress.store.read()
    process_stored(api.services)
    return stored[-1][1]


def test_a_chair_reads_alerts_and_the_disclosure_is_audited(api: Api, idva, chair) -> None:
    event = raise_alert_for(api, idva)
    r = api.client.get("/v1/alerts", headers=chair, params={"purpose": "marac_meeting"})
    assert r.status_code == 200, r.text
    body = r.json()
    [alert] = body["alerts"]
    assert alert["rule"] == "visible_high_risk"
    assert alert["triggering_event_ids"] == [event.hub_id]
    records = list(api.services.audit.records())
    assert len(records) == 1
    record = json.loads(records[0].body)
    assert record["record_id"] == body["audit_record_id"]
    assert record["purpose"] == "marac_meeting"
    assert record["role"] == "marac_chair"
    assert record["subjects"] == sorted(alert["subject_tokens"])
    assert record["items"] == [alert["alert_id"]]
    assert "reason" in record["fields"]
    assert record["lawful_bases"] == ["ukgdpr-6-1-e"]
    assert api.services.audit.verify().ok


def test_only_marac_chairs_and_coordinators_read_alerts(api: Api, idva) -> None:
    raise_alert_for(api, idva)
    ig = api.key("IG Example", "person", "ig_officer")
    for headers in (ig, idva):
        assert api.client.get("/v1/alerts", headers=headers).status_code == 403
    assert list(api.services.audit.records()) == []


def test_nothing_is_shown_when_the_audit_log_cannot_be_written(api: Api, idva, chair) -> None:
    raise_alert_for(api, idva)
    with api.services.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    r = api.client.get("/v1/alerts", headers=chair)
    assert r.status_code == 503
    assert "alerts" not in r.json()
    assert "audit" in detail_text(r)


def test_no_alerts_means_no_disclosure_record(api: Api, chair) -> None:
    r = api.client.get("/v1/alerts", headers=chair)
    assert r.status_code == 200
    assert r.json() == {
        "alerts": [], "withheld": 0, "refusals": [], "revision": 0, "audit_record_id": None
    }  # fmt: skip
    assert list(api.services.audit.records()) == []


def test_openapi_documents_the_event_types(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in ("PoliceIncident", "DashRiskAssessment", "ReferralMade"):
        assert name in schemas
    assert "/v1/events" in doc["paths"]
