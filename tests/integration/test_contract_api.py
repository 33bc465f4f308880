"""The contract through the HTTP API: every type, sealed fields and erasure, batches."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from hub.adapters.crypto.ciphers import ERASED, is_sealed
from hub.adapters.sql.schema import events, outbox
from hub.contract import EVENT_TYPES
from hub.contract.examples import EXAMPLES
from hub.domain.agencies import load_agency_types
from hub.entrypoints.stack import child_env
from tests.cli import run_hub
from tests.http_errors import detail_text
from tests.integration.conftest import Api


def sender_for(api: Api, event_type: str) -> dict[str, str]:
    agency_type = next(n for n, t in load_agency_types().items() if event_type in t.may_send)
    return api.key(f"TEST-{agency_type.upper()}-{event_type}", "agency_system", agency_type)


def stored(api: Api, source_id: str) -> tuple[dict, dict]:
    with api.services.engine.connect() as conn:
        body, value = conn.execute(
            select(events.c.body, outbox.c.value)
            .join(outbox, outbox.c.event_seq == events.c.seq)
            .where(events.c.source_id == source_id)
        ).one()
    return json.loads(body), json.loads(value)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_accepted_and_stored_without_people(api: Api, event_type) -> None:
    event = EXAMPLES[event_type]
    r = api.client.post("/v1/events", json=event, headers=sender_for(api, event_type))
    assert r.status_code == 202, r.text
    body, queued = stored(api, event["id"])
    assert body == queued  # what Kafka gets is what the store keeps
    text = json.dumps(body)
    for clear in ("Alex Example", "Sam Sample", "9990000001", "TEST0000002", "1990-01-01"):
        assert clear not in text
    assert body["type"] == event_type
    assert body["sent_at"] == "2026-03-02T08:00:00+00:00"  # sent time kept apart from event time
    assert body["time"] == "2026-03-01T22:15:00+00:00"


def test_sensitive_fields_are_sealed_and_erasure_shreds_them_everywhere(api: Api, tmp_path) -> None:
    event = EXAMPLES["health.attendance"]
    r = api.client.post("/v1/events", json=event, headers=sender_for(api, "health.attendance"))
    assert r.status_code == 202, r.text
    body, queued = stored(api, event["id"])
    data = body["data"]
    for name in ("clinical_notes", "pregnant", "substance_use", "self_harm"):
        assert is_sealed(data[name]), name
        assert is_sealed(queued["data"][name])
    assert data["injury"] is True and data["setting"] == "ae"  # not sensitive: readable
    assert "Bruising" not in json.dumps(body)
    cipher = api.services.cipher
    hub_id = body["hub_id"]
    assert cipher.reveal(hub_id, data)["clinical_notes"] == event["data"]["clinical_notes"]

    token = data["clinical_notes"]["kid"]
    erase = run_hub("subjects", "erase", token, env=child_env(api.services.settings))
    assert erase.returncode == 0, erase.stderr
    assert cipher.reveal(hub_id, data)["clinical_notes"] == ERASED  # the stored copy
    assert cipher.reveal(hub_id, queued["data"])["self_harm"] == ERASED  # the Kafka copy
    assert cipher.reveal(hub_id, data)["injury"] is True
    again = run_hub("subjects", "erase", token, env=child_env(api.services.settings))
    assert again.returncode == 2 and again.stderr.count("\n") == 1  # one line, what was wrong


def test_a_sealed_field_cannot_be_moved_to_another_event_or_field(api: Api) -> None:
    headers = sender_for(api, "health.attendance")
    first = copy.deepcopy(EXAMPLES["health.attendance"])
    second = copy.deepcopy(first) | {"id": "TEST-HEALTH-ATTENDANCE-0002"}
    for e in (first, second):
        assert api.client.post("/v1/events", json=e, headers=headers).status_code == 202
    a, _ = stored(api, first["id"])
    b, _ = stored(api, second["id"])
    cipher = api.services.cipher
    sealed = a["data"]["clinical_notes"]
    assert cipher.decrypt(a["hub_id"], "clinical_notes", sealed) == first["data"]["clinical_notes"]
    # same subject, same key: still bound to its own event and field
    assert cipher.decrypt(b["hub_id"], "clinical_notes", sealed) == ERASED
    assert cipher.decrypt(a["hub_id"], "pregnant", sealed) == ERASED


def test_a_batch_answers_per_event_and_one_bad_line_rejects_only_itself(api: Api) -> None:
    headers = sender_for(api, "risk.dash")
    good = copy.deepcopy(EXAMPLES["risk.dash"])
    other = copy.deepcopy(good) | {"id": "TEST-RISK-DASH-0002"}
    bad_type = copy.deepcopy(good) | {"id": "TEST-BAD-1", "type": "police.incident"}
    lines = [
        json.dumps(good).encode(),
        b'{"specversion": "1.0", "id": "TEST-BROKEN"',
        json.dumps(bad_type).encode(),
        json.dumps(other).encode(),
        json.dumps(good).encode(),  # repeated: a duplicate, not a second event
    ]
    r = api.client.post(
        "/v1/events:batch",
        content=b"\n".join(lines) + b"\n",
        headers=headers | {"Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = [(x["index"], x["status"], x["reason"]) for x in body["results"]]
    assert statuses == [
        (0, "accepted", None),
        (1, "rejected", "malformed_json"),
        (2, "rejected", "invalid"),
        (3, "accepted", None),
        (4, "duplicate", None),
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    assert body["results"][2]["errors"][0]["path"].startswith("data")
    with api.services.engine.connect() as conn:
        assert sorted(conn.execute(select(events.c.source_id)).scalars()) == [
            "TEST-RISK-DASH-0001",
            "TEST-RISK-DASH-0002",
        ]


def test_a_json_array_batch_reports_refusals_per_event(api: Api) -> None:
    headers = sender_for(api, "risk.dash")  # police: may send Dash, not health attendances
    dash = EXAMPLES["risk.dash"]
    health = EXAMPLES["health.attendance"]
    r = api.client.post("/v1/events:batch", json=[dash, health], headers=headers)
    assert r.status_code == 200
    [ok, refused] = r.json()["results"]
    assert ok["status"] == "accepted"
    assert refused["status"] == "rejected" and refused["reason"] == "not_allowed"
    assert "health.attendance" in refused["errors"][0]["msg"]


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b'{"not": "a list"}', "application/json", 400),
        (b"[]", "application/json", 400),
        (b"[" * 5000, "application/json", 400),
        (json.dumps([EXAMPLES["risk.dash"]] * 1001).encode(), "application/json", 413),
    ],
)
def test_a_batch_that_is_not_a_batch_is_refused_whole(api: Api, content, ctype, status) -> None:
    headers = sender_for(api, "risk.dash") | {"Content-Type": ctype}
    r = api.client.post("/v1/events:batch", content=content, headers=headers)
    assert r.status_code == status
    assert r.json()["detail"]


def test_a_batch_needs_a_valid_key(api: Api) -> None:
    r = api.client.post("/v1/events:batch", json=[EXAMPLES["risk.dash"]])
    assert r.status_code == 401


def test_a_batch_from_a_person_is_refused_whole_as_a_single_event_is(api: Api) -> None:
    person = api.key("Chair Example", "person", "marac_chair")
    single = api.client.post("/v1/events", json=EXAMPLES["risk.dash"], headers=person)
    batch = api.client.post("/v1/events:batch", json=[EXAMPLES["risk.dash"]], headers=person)
    assert (single.status_code, batch.status_code) == (403, 403), batch.text
    assert batch.json()["detail"] == single.json()["detail"]
    assert "results" not in batch.json()
    assert api.services.ingress.store.read(0, 10) == []


def test_the_agency_attribute_must_match_the_credential(api: Api) -> None:
    event = copy.deepcopy(EXAMPLES["risk.dash"]) | {"agency": "TEST-SOMEONE-ELSE"}
    r = api.client.post("/v1/events", json=event, headers=sender_for(api, "risk.dash"))
    assert r.status_code == 403
    assert "TEST-SOMEONE-ELSE" in detail_text(r)


def test_an_oversized_event_is_refused_before_it_is_parsed(api: Api) -> None:
    event = copy.deepcopy(EXAMPLES["police.incident"])
    event["data"]["padding"] = "x" * 70_000  # would also be an unknown field: size speaks first
    r = api.client.post("/v1/events", json=event, headers=sender_for(api, "police.incident"))
    assert r.status_code == 413
    assert "limit is 65536" in detail_text(r)
