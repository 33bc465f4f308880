"""The family view and a subject's family through the API: each reader sees what the sharing
policy allows, derived views never leak withheld events, merged ids redirect, and every
disclosure is audited first.

Events go in over HTTP; the linker and the projector run in-process over the event store
(tests/processing.py, what the relay and the worker do). Scenarios through the real broker
are the linker's and projector's own tests.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.ig import item_decisions
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.memory import InMemoryAuditLog
from hub.bootstrap import build_services
from hub.contract.examples import CHILD, EXAMPLES, PERPETRATOR, VICTIM
from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.processing import process_stored

EX_PARTNER = {"role": "other", "name": "Robin Demo", "identifiers": {"pnc_id": "TEST0000009"}}


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


def token(api: Api, kind: str, value: str) -> str:
    return Tokeniser(api.services.ingress.tokeniser._key).token(kind, value)


class Family:
    """An obviously fake family sent by several agencies, linked and projected."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.victim = token(api, "nhs", "9990000001")
        self.perp = token(api, "pnc", "TEST0000002")
        self.child = token(api, "nhs", "9990000003")
        self.ex = token(api, "pnc", "TEST0000009")
        self._keys: dict[str, dict[str, str]] = {}

    def key(self, name: str, kind: str, role: str, agency: str | None = None) -> dict[str, str]:
        if name not in self._keys:
            self._keys[name] = self.api.key(name, kind, role, agency)
        return self._keys[name]

    def send(self, agency: str, agency_type: str, *events: dict[str, Any]) -> None:
        headers = self.key(agency, "agency_system", agency_type)
        for event in events:
            r = self.api.client.post("/v1/events", json=event, headers=headers)
            assert r.status_code == 202, r.text

    def process(self) -> None:
        process_stored(self.api.services)

    def family_id(self) -> str:
        chair = self.key("Chair Example", "person", "marac_chair")
        r = self.api.client.get(f"/v1/subjects/{self.victim}/family", headers=chair)
        assert r.status_code == 200, r.text
        return str(r.json()["family_id"])

    def read(self, headers: dict[str, str], fid: str | None = None, **params: Any) -> Any:
        r = self.api.client.get(f"/v1/families/{fid or self.family_id()}", headers=headers,
                                params=params)  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()


def ex_partner_declared() -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLES["relationship.declared"])
    event["id"] = "TEST-RELATIONSHIP-DECLARED-0002"
    # the victim's previous partner is part of her case; the perpetrator's would not be
    # (his other partners' histories are other cases, linked through him: issue 15)
    event["data"]["subjects"] = [
        {**VICTIM, "role": "other"}, EX_PARTNER,
    ]  # fmt: skip
    event["data"]["relation"] = "ex_partner"
    return event


@pytest.fixture
def family(api: Api) -> Family:
    f = Family(api)
    f.send("TEST-POLICE-A", "police", EXAMPLES["police.incident"], ex_partner_declared())
    f.send("TEST-AE-A", "health_ae", EXAMPLES["health.attendance"], EXAMPLES["marker.added"])
    f.send("TEST-IDVA-A", "idva", EXAMPLES["risk.dash"], EXAMPLES["needs.identified"])
    f.send("TEST-MARAC-A", "marac", EXAMPLES["marac.case_heard"])
    f.process()
    return f


def test_a_marac_chair_sees_the_whole_family_with_names(api: Api, family: Family) -> None:
    chair = family.key("Chair Example", "person", "marac_chair")
    view = family.read(chair)
    people = {family.victim, family.perp, family.child, family.ex}
    assert {t for m in view["members"].values() for t in m["tokens"]} == people
    kinds = {(r["kind"]) for r in view["relations"]}
    assert {"victim_perpetrator", "household", "ex_partner"} <= kinds
    assert len(view["timeline"]) == 7 and view["withheld"] == 0 and view["involvement"] == []
    [risk] = view["risk"].values()
    assert risk["dash"]["score"] == 14 and risk["marac"]["status"] == "heard"
    assert [a["owner_agency"] for a in view["marac"]["open_actions"]] == [
        "TEST-IDVA-A", "TEST-POLICE-A",
    ]  # fmt: skip
    assert {a["agency_id"] for a in view["agencies"]} == {
        "TEST-POLICE-A", "TEST-AE-A", "TEST-IDVA-A", "TEST-MARAC-A",
    }  # fmt: skip
    [victim] = [m for m in view["members"].values() if family.victim in m["tokens"]]
    assert victim["names"][family.victim]["name"] == "Alex Example"
    assert view["rule_counts"]["victims"]  # counts in the area's window, as of now
    assert "Neighbour called" not in json.dumps(view)  # sealed free text stays sealed
    record = json.loads(list(api.services.audit.records())[-1].body)
    assert record["action"] == f"GET /v1/families/{view['family_id']}"
    assert family.victim in record["subjects"] and len(record["items"]) == 7
    assert "members.names" in record["fields"]


def test_a_gp_sees_markers_and_involvement_only_and_nothing_leaks(api: Api, family: Family) -> None:
    gp = family.key("GP Example", "person", "gp", "TEST-GP-A")
    view = family.read(gp)
    assert [(e["type"], e["facts"]) for e in view["timeline"]] == [
        ("marker.added", {"marker": "da_victim", "since": "2026-02-01"})
    ]
    involved = {(x["agency_id"], x["type"]) for x in view["involvement"]}
    assert ("TEST-POLICE-A", "police.incident") in involved
    assert ("TEST-IDVA-A", "risk.dash") in involved
    assert all(set(x) == {"hub_id", "type", "agency_id"} for x in view["involvement"])
    # derived views come from the marker alone: no perpetrator, child, Dash or hearing
    text = json.dumps(view)
    for hidden in (family.perp, family.child, family.ex, "Alex Example", "coercive_control"):
        assert hidden not in text
    assert view["relations"] == [] and view["marac"]["hearings"] == []
    assert [(r["dash"], r["marac"]["status"]) for r in view["risk"].values()] == [(None, "none")]
    assert [a["agency_id"] for a in view["agencies"]] == ["TEST-AE-A"]
    assert all("names" not in m for m in view["members"].values())


def test_each_read_shows_the_reader_their_own_view_of_the_latest_projection(
    api: Api, family: Family
) -> None:
    """The API keeps a family's parsed projection, and what each reader's view derives from
    it, in memory: a GP reading after a chair still sees only the GP's view, and an event
    applied since the last read is in the next one (and in its audit record)."""
    chair = family.key("Chair Example", "person", "marac_chair")
    gp = family.key("GP Example", "person", "gp", "TEST-GP-A")
    first = family.read(chair)
    assert len(first["timeline"]) == 7
    seen_by_gp = family.read(gp)
    assert [e["type"] for e in seen_by_gp["timeline"]] == ["marker.added"]
    assert family.perp not in json.dumps(seen_by_gp) and "names" not in json.dumps(seen_by_gp)
    again = family.read(chair)
    assert {k: v for k, v in again.items() if k not in ("audit_record_id", "rule_counts")} == {
        k: v for k, v in first.items() if k not in ("audit_record_id", "rule_counts")
    }
    later = copy.deepcopy(EXAMPLES["police.incident"]) | {"id": "TEST-POLICE-INCIDENT-0002"}
    family.send("TEST-POLICE-A", "police", later)
    family.process()
    after = family.read(chair)
    assert len(after["timeline"]) == 8
    assert after["agencies"] != first["agencies"]  # the police agency's count moved
    record = json.loads(list(api.services.audit.records())[-1].body)
    decided = [d["hub_id"] for d in item_decisions(record)]  # grouped by kind in the record
    assert len(record["items"]) == 8 and sorted(decided) == sorted(record["items"])
    assert [e["type"] for e in family.read(gp)["timeline"]] == ["marker.added"]


def test_an_idva_sees_summaries_without_sealed_detail(api: Api, family: Family) -> None:
    idva = family.key("IDVA Example", "person", "idva", "TEST-IDVA-B")
    view = family.read(idva, purpose="marac_case_preparation")
    by_type = {e["type"]: e for e in view["timeline"]}
    assert by_type["police.incident"]["facts"]["children_present"] is True
    assert "marker" in by_type["marker.added"]["facts"]
    assert "Bruising" not in json.dumps(view)
    assert all("names" not in m for m in view["members"].values())


def test_ig_officers_are_refused_case_content_outright(api: Api, family: Family) -> None:
    ig = family.key("IG Example", "person", "ig_officer")
    r = api.client.get(f"/v1/families/{family.family_id()}", headers=ig)
    assert r.status_code == 403 and "hub audit" in detail_text(r)
    assert "withheld" not in r.text  # not even how many events the family has
    r = api.client.get(f"/v1/subjects/{family.victim}/family", headers=ig)
    assert r.status_code == 403 and "hub audit" in detail_text(r)
    records = [json.loads(x.body) for x in api.services.audit.records()]
    assert [x["outcome"] for x in records[-2:]] == ["refused", "refused"]
    assert all(x["decisions"] == [] for x in records[-2:])


def test_a_withdrawn_consent_takes_its_event_out_of_the_derived_views(api: Api) -> None:
    f = Family(api)
    on_consent = copy.deepcopy(EXAMPLES["referral.made"]) | {
        "lawfulbasis": "ukgdpr-6-1-a", "consentref": EXAMPLES["consent.recorded"]["consentref"],
    }  # fmt: skip
    f.send("TEST-IDVA-A", "idva", EXAMPLES["consent.recorded"], on_consent)
    f.send("TEST-POLICE-A", "police", EXAMPLES["police.incident"])
    f.process()
    chair = f.key("Chair Example", "person", "marac_chair")
    before = f.read(chair)
    assert next(iter(before["risk"].values()))["marac"]["status"] == "referred"
    f.send("TEST-IDVA-A", "idva", EXAMPLES["consent.withdrawn"])
    f.process()
    after = f.read(chair)
    assert "referral.made" not in {e["type"] for e in after["timeline"]}
    assert next(iter(after["risk"].values()))["marac"]["status"] == "none"
    assert after["withheld"] == 2 and any("withdrawn" in r for r in after["refusals"])


def test_a_merged_family_id_redirects_to_the_family_it_joined(api: Api) -> None:
    f = Family(api)
    other = copy.deepcopy(EXAMPLES["police.incident"])
    other["id"] = "TEST-POLICE-INCIDENT-0002"
    other["data"]["subjects"] = [
        {**VICTIM, "identifiers": {"nhs_number": "9990000021"}},
        {**PERPETRATOR, "identifiers": {"pnc_id": "TEST0000022"}},
    ]
    f.send("TEST-POLICE-A", "police", EXAMPLES["police.incident"], other)
    f.process()
    chair = f.key("Chair Example", "person", "marac_chair")
    first = f.family_id()
    r = api.client.get(f"/v1/subjects/{token(api, 'nhs', '9990000021')}/family", headers=chair)
    second = r.json()["family_id"]
    assert first != second
    link = copy.deepcopy(EXAMPLES["relationship.declared"])
    link["id"] = "TEST-RELATIONSHIP-DECLARED-0003"
    link["data"]["subjects"] = [
        {**CHILD, "role": "other"}, {**VICTIM, "identifiers": {"nhs_number": "9990000021"}},
    ]  # fmt: skip
    link["data"]["relation"] = "sibling"
    f.send("TEST-POLICE-A", "police", link)
    f.process()

    r = api.client.get(f"/v1/families/{second}", headers=chair, params={"purpose": "marac_meeting"},
                       follow_redirects=False)  # fmt: skip
    assert r.status_code == 307
    assert r.headers["location"] == f"/v1/families/{first}?purpose=marac_meeting"
    assert r.json()["merged_into"] == first
    followed = api.client.get(f"/v1/families/{second}", headers=chair)
    assert followed.status_code == 200 and followed.json()["family_id"] == first
    assert len(followed.json()["timeline"]) == 3  # both histories
    r = api.client.get(f"/v1/subjects/{token(api, 'nhs', '9990000021')}/family", headers=chair)
    assert r.json()["family_id"] == first


def test_unknown_malformed_and_agency_system_requests(api: Api, family: Family) -> None:
    chair = family.key("Chair Example", "person", "marac_chair")
    unknown = "f_" + "a" * 32
    assert api.client.get(f"/v1/families/{unknown}", headers=chair).status_code == 404
    assert api.client.get("/v1/families/not-a-family", headers=chair).status_code == 422
    r = api.client.get(f"/v1/subjects/st_{'b' * 32}/family", headers=chair)
    assert r.status_code == 404
    system = family.key("TEST-POLICE-A", "agency_system", "police")
    fid = family.family_id()
    assert api.client.get(f"/v1/families/{fid}", headers=system).status_code == 403
    assert api.client.get(f"/v1/families/{fid}").status_code == 401


def test_nothing_is_shown_when_the_audit_log_cannot_be_written(
    api: Api, family: Family, audit_log: InMemoryAuditLog
) -> None:
    fid = family.family_id()
    chair = family.key("Chair Example", "person", "marac_chair")
    audit_log.unavailable = True
    r = api.client.get(f"/v1/families/{fid}", headers=chair)
    assert r.status_code == 503 and "Alex" not in r.text
    r = api.client.get(f"/v1/subjects/{family.victim}/family", headers=chair)
    assert r.status_code == 503


def test_undoing_a_wrong_match_gives_the_old_family_id_back(api: Api) -> None:
    from tests.integration.test_identity_api import ALEX_BY_AE, ALEX_BY_POLICE

    f = Family(api)
    incident = copy.deepcopy(EXAMPLES["police.incident"])
    incident["data"]["subjects"] = [ALEX_BY_POLICE]
    attendance = copy.deepcopy(EXAMPLES["health.attendance"])
    attendance["data"]["subjects"] = [ALEX_BY_AE]
    f.send("TEST-POLICE-A", "police", incident)
    f.send("TEST-AE-A", "health_ae", attendance)
    f.process()
    coordinator = f.key("Coordinator Example", "person", "marac_coordinator")
    [match] = api.client.get("/v1/identity/matches", headers=coordinator).json()["matches"]
    later = match["b"]["family_id"] if match["b"]["token"] == token(api, "nhs", "9990000011") \
        else match["a"]["family_id"]  # fmt: skip

    def status_of(fid: str) -> int:
        return api.client.get(f"/v1/families/{fid}", headers=coordinator,
                              follow_redirects=False).status_code  # fmt: skip

    assert status_of(later) == 200
    confirm = f"/v1/identity/matches/{match['match_id']}/confirm"
    assert api.client.post(confirm, headers=coordinator).status_code == 202
    f.process()
    assert status_of(later) == 307  # merged into the older family
    undo = f"/v1/identity/matches/{match['match_id']}/undo"
    assert api.client.post(undo, headers=coordinator).status_code == 202
    f.process()
    assert status_of(later) == 200  # split again: the old id is a family again
    view = api.client.get(f"/v1/families/{later}", headers=coordinator).json()
    agency_events = [e["type"] for e in view["timeline"] if e["agency_id"] != "hub"]
    assert agency_events == ["health.attendance"]
    decisions = [e["type"] for e in view["timeline"] if e["agency_id"] == "hub"]
    assert decisions == ["hub.identity.match_confirmed", "hub.identity.match_undone"]
