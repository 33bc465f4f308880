"""Possible matches through the API: Marac roles see both sides (names from the vault) and
confirm, reject or undo; each decision is a stored hub event, audited first; transitions the
match's status does not allow answer 409 with the reason.

The linker runs here in-process over the event store (as the relay runs it before
publishing); through-the-broker identity scenarios are the linker's own tests.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.adapters.memory import InMemoryAuditLog
from hub.bootstrap import build_services
from hub.contract.examples import EXAMPLES
from hub.domain import internal
from hub.entrypoints.api.app import create_app
from hub.pipeline.linking import Linker
from hub.settings import Settings
from tests.http_errors import detail_text
from tests.integration.conftest import Api

# One person sent twice without a shared strong identifier: same name, birth date, postcode.
ALEX_BY_POLICE = {
    "role": "victim", "name": "Alex Example", "date_of_birth": "1990-01-01",
    "postcode": "ZZ99 1AA", "identifiers": {"pnc_id": "TEST0000011"},
}  # fmt: skip
ALEX_BY_AE = {
    "role": "victim", "name": "alex  EXAMPLE", "date_of_birth": "1990-01-01",
    "postcode": "zz991aa", "identifiers": {"nhs_number": "9990000011"},
}  # fmt: skip


# The audit log is an in-memory fake passed in through the bootstrap (not patched), so a
# test can make it fail; the SQL audit store has its own contract suite.
@pytest.fixture
def audit_log() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def api(tmp_path: Path, audit_log: InMemoryAuditLog) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, build_services(settings, audit=audit_log))
    with TestClient(app) as client:
        yield Api(client, app.state.services)


def send(api: Api, agency: str, agency_type: str, event: dict[str, Any]) -> None:
    r = api.client.post("/v1/events", json=event, headers=api.key(agency, "agency_system",
                                                                  agency_type))  # fmt: skip
    assert r.status_code == 202, r.text


def link(api: Api) -> None:
    """What the relay does before publishing: link every stored event, in store order."""
    Linker(api.services.engine).link(api.services.ingress.store.read(0, 10_000))


@pytest.fixture
def match_id(api: Api) -> str:
    incident = copy.deepcopy(EXAMPLES["police.incident"])
    incident["data"]["subjects"] = [ALEX_BY_POLICE]
    attendance = copy.deepcopy(EXAMPLES["health.attendance"])
    attendance["data"]["subjects"] = [ALEX_BY_AE]
    send(api, "TEST-POLICE-A", "police", incident)
    send(api, "TEST-AE-A", "health_ae", attendance)
    link(api)
    r = api.client.get("/v1/identity/matches", headers=coordinator(api))
    assert r.status_code == 200, r.text
    [match] = r.json()["matches"]
    return str(match["match_id"])


def coordinator(api: Api) -> dict[str, str]:
    """The coordinator's header (one principal per test)."""
    cached: dict[str, str] | None = getattr(api, "_coordinator", None)
    if cached is None:
        cached = api.key("Coordinator Example", "person", "marac_coordinator")
        api._coordinator = cached  # type: ignore[attr-defined]
    return cached


def post(api: Api, match: str, verb: str, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(f"/v1/identity/matches/{match}/{verb}",
                           headers=headers or coordinator(api))  # fmt: skip


def matches(api: Api, status: str) -> list[dict[str, Any]]:
    r = api.client.get("/v1/identity/matches", params={"status": status},
                       headers=coordinator(api))  # fmt: skip
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])


def test_an_open_match_shows_both_sides_with_names_to_marac_roles(api: Api, match_id: str) -> None:
    [match] = matches(api, "open")
    assert {match["a"]["name"], match["b"]["name"]} == {"Alex Example", "alex  EXAMPLE"}
    assert match["a"]["date_of_birth"] == match["b"]["date_of_birth"] == "1990-01-01"
    assert match["a"]["family_id"] != match["b"]["family_id"]  # never merged silently
    record = json.loads(list(api.services.audit.records())[-1].body)
    assert record["action"] == "GET /v1/identity/matches"
    assert sorted(record["subjects"]) == sorted([match["a"]["token"], match["b"]["token"]])
    assert "name" in record["fields"]


def test_only_marac_roles_see_or_decide_matches(api: Api, match_id: str) -> None:
    gp = api.key("GP Example", "person", "gp", "TEST-GP-A")
    system = api.key("TEST-IDVA-A", "agency_system", "idva")
    for headers in (gp, system):
        assert api.client.get("/v1/identity/matches", headers=headers).status_code == 403
        assert post(api, match_id, "confirm", headers).status_code == 403
    assert api.client.get("/v1/identity/matches").status_code == 401


def test_confirming_stores_a_decision_event_that_the_linker_applies(
    api: Api, match_id: str
) -> None:
    r = post(api, match_id, "confirm")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "confirmed"
    event = api.services.ingress.store.get(body["hub_id"])
    assert event is not None and event.type == internal.MATCH_CONFIRMED
    assert event.agency_id == "hub"
    assert event.data["match_id"] == match_id
    assert event.data["actor_role"] == "marac_coordinator"
    assert [s.role for s in event.subjects] == ["other", "other"]
    audit = [json.loads(r.body) for r in api.services.audit.records()]
    assert audit[-1]["action"] == f"POST /v1/identity/matches/{match_id}/confirm"
    assert audit[-1]["items"] == [body["hub_id"]]

    # before the linker applies it, the API already counts the stored decision
    assert [m["match_id"] for m in matches(api, "open")] == [match_id]
    assert matches(api, "open")[0]["status"] == "confirmed"
    link(api)
    [confirmed] = matches(api, "confirmed")
    assert confirmed["decided_by"] == body["hub_id"]
    assert confirmed["a"]["family_id"] == confirmed["b"]["family_id"]  # one person now


def test_a_retry_by_the_same_person_is_the_same_decision(api: Api, match_id: str) -> None:
    first = post(api, match_id, "confirm")
    again = post(api, match_id, "confirm")
    assert again.status_code == 202 and again.json()["hub_id"] == first.json()["hub_id"]
    assert again.headers["Hub-Duplicate"] == "true"
    chair = api.key("Chair Example", "person", "marac_chair")
    other = post(api, match_id, "confirm", chair)
    assert other.status_code == 409 and "already confirmed" in detail_text(other)


def test_rejecting_a_confirmed_match_says_undo_it_instead(api: Api, match_id: str) -> None:
    assert post(api, match_id, "confirm").status_code == 202
    r = post(api, match_id, "reject")
    assert r.status_code == 409
    assert "undo it instead" in detail_text(r)


def test_undo_splits_a_confirmed_match_and_only_a_confirmed_one(api: Api, match_id: str) -> None:
    r = post(api, match_id, "undo")
    assert r.status_code == 409 and "nothing to undo" in detail_text(r)
    assert post(api, match_id, "confirm").status_code == 202
    link(api)
    undo = post(api, match_id, "undo")
    assert undo.status_code == 202, undo.text
    assert api.services.ingress.store.get(undo.json()["hub_id"]).type == internal.MATCH_UNDONE
    link(api)
    [undone] = matches(api, "undone")
    assert undone["a"]["family_id"] != undone["b"]["family_id"]  # apart again
    assert post(api, match_id, "confirm").status_code == 409
    again = post(api, match_id, "undo")  # the same person retrying: the same answer
    assert again.status_code == 202 and again.headers["Hub-Duplicate"] == "true"
    chair = api.key("Chair Example", "person", "marac_chair")
    r = post(api, match_id, "undo", chair)
    assert r.status_code == 409 and "already undone" in detail_text(r)


def test_a_rejected_match_stays_apart(api: Api, match_id: str) -> None:
    assert post(api, match_id, "reject").status_code == 202
    link(api)
    [rejected] = matches(api, "rejected")
    assert rejected["a"]["family_id"] != rejected["b"]["family_id"]
    r = post(api, match_id, "confirm")
    assert r.status_code == 409 and "rejected" in detail_text(r)


def test_unknown_and_malformed_match_ids(api: Api) -> None:
    assert post(api, "00000000-0000-0000-0000-000000000000", "confirm").status_code == 404
    assert post(api, "not-a-match", "confirm").status_code == 422


def test_a_decision_is_not_taken_when_it_cannot_be_audited(
    api: Api, match_id: str, audit_log: InMemoryAuditLog
) -> None:
    audit_log.unavailable = True
    r = post(api, match_id, "confirm")
    assert r.status_code == 503
    audit_log.unavailable = False
    assert matches(api, "open")[0]["status"] == "open"
