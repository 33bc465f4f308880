"""Alerts through the API on a real SQLite database: the list and its filters, areas, names,
the policy point and the audit record, the lifecycle (acknowledge, agenda, dismiss) as stored
hub events, and the live stream (server-sent events) on a real HTTP server.

Events go in over HTTP; the linker and the worker's projector then run in-process over the
event store (tests/processing.py) as the relay and the worker do through the broker; the
last test runs the lifecycle and the stream through the broker, the worker and the relay.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select, text

from hub.adapters.kafka.embedded import free_port
from hub.adapters.sql.alerts import AlertQuery, changes_since
from hub.adapters.sql.families import find_family
from hub.adapters.sql.schema import alerts as alerts_table
from hub.adapters.sql.schema import outbox
from hub.bootstrap import build_services
from hub.domain import internal
from hub.entrypoints import shared as alert_stream  # the stream generator lives there
from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests import builders as b
from tests.http_errors import detail_text
from tests.integration.conftest import Api, RunningHub, wait_for
from tests.processing import process_stored

JO = b.victim("9990000202", "Jo Testperson")


class Hub:
    """The API with one principal per role, and the steps of the path."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.idva = api.key("TEST-IDVA-A", "agency_system", "idva")  # agency in TEST-AREA
        self.idva_z = api.key("TEST-IDVA-Z", "agency_system", "idva")  # in no area: default
        self.chair = api.key("Chair Example", "person", "marac_chair")
        self.keys: dict[str, dict[str, str]] = {}

    def person(self, name: str, role: str, area: str | None = None) -> dict[str, str]:
        if name not in self.keys:
            _p, key = self.api.services.principals.add(name, "person", role, None, area)
            self.keys[name] = {"Authorization": f"Bearer {key}"}
        return self.keys[name]

    def send(self, headers: dict[str, str], *events: dict[str, Any]) -> list[str]:
        ids = []
        for event in events:
            r = self.api.client.post("/v1/events", json=event, headers=headers)
            assert r.status_code == 202, r.text
            ids.append(r.json()["hub_id"])
        return ids

    def process(self) -> None:
        process_stored(self.api.services)

    def alerts(self, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        r = self.api.client.get("/v1/alerts", headers=headers or self.chair, params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def act(self, alert_id: str, verb: str, headers: dict[str, str] | None = None, **body: Any):
        return self.api.client.post(
            f"/v1/alerts/{alert_id}/{verb}", headers=headers or self.chair,
            json=body if body else None,
        )  # fmt: skip

    def audit_records(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.api.services.audit.records()]


@pytest.fixture
def hub(api: Api) -> Hub:
    return Hub(api)


def high_risk(hub: Hub, score: int = 16, **over: Any) -> dict[str, Any]:
    """A visible-high-risk alert for Alex Example in TEST-AREA, processed."""
    hub.send(hub.idva, b.dash(score, **over))
    hub.process()
    [alert] = hub.alerts()["alerts"]
    return dict(alert)


# --- the list ----------------------------------------------------------------------------


def test_a_chair_reads_an_alert_with_names_and_the_read_is_audited(hub: Hub) -> None:
    [dash_id] = hub.send(hub.idva, b.dash(16))
    hub.process()
    body = hub.alerts(purpose="marac_meeting")
    [alert] = body["alerts"]
    assert alert["rule"] == "visible_high_risk" and alert["area"] == "TEST-AREA"
    assert alert["triggering_event_ids"] == [dash_id]
    assert alert["status"] == "new" and alert["status_detail"] == {}
    assert alert["people"] == [{"token": alert["victim_token"], "name": "Alex Example"}]
    assert "16 of 24" in alert["reason"] and alert["recommended_action"]
    assert body["revision"] == alert["revision"] and body["withheld"] == 0
    [record] = hub.audit_records()
    assert record["record_id"] == body["audit_record_id"]
    assert record["action"] == "GET /v1/alerts" and record["purpose"] == "marac_meeting"
    assert record["items"] == [alert["alert_id"]]
    assert record["subjects"] == sorted(alert["subject_tokens"])
    assert "people.name" in record["fields"] and "reason" in record["fields"]
    assert hub.api.services.audit.verify().ok


def test_filters_by_area_status_rule_and_event_date(hub: Hub) -> None:
    hub.send(hub.idva, b.dash(16, time="2026-03-01T10:00:00Z"))
    hub.send(hub.idva_z, b.dash(7, subjects=[JO], time="2026-04-01T10:00:00Z"))
    hub.process()

    def rules(**params: Any) -> list[str]:
        return sorted(a["rule"] for a in hub.alerts(**params)["alerts"])

    assert rules() == ["medium_risk", "visible_high_risk"]
    assert rules(area="TEST-AREA") == ["visible_high_risk"]
    assert rules(area="default") == ["medium_risk"]
    assert rules(rule="medium_risk") == ["medium_risk"]
    assert rules(status="new") == ["medium_risk", "visible_high_risk"]
    assert rules(status="dismissed") == []
    assert rules(**{"from": "2026-03-02"}) == ["medium_risk"]
    assert rules(**{"to": "2026-03-01"}) == ["visible_high_risk"]  # whole days, inclusive
    assert rules(**{"from": "2026-03-01", "to": "2026-03-31"}) == ["visible_high_risk"]
    assert [a["rule"] for a in hub.alerts(limit=1)["alerts"]] == ["medium_risk"]  # latest first


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"status": "closed"}, "query.status"),
        ({"from": "2026-04-02", "to": "2026-04-01"}, "query.to"),
        ({"rule": "Visible High Risk"}, "query.rule"),
        ({"limit": 0}, "query.limit"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(hub: Hub, params: dict, path: str) -> None:
    r = hub.api.client.get("/v1/alerts", headers=hub.chair, params=params)
    assert r.status_code == 422, r.text
    assert [e["path"] for e in r.json()["detail"]] == [path]


def test_a_chair_with_an_area_sees_only_that_area(hub: Hub) -> None:
    hub.send(hub.idva, b.dash(16))
    hub.send(hub.idva_z, b.dash(16, subjects=[JO]))
    hub.process()
    north = hub.person("North Chair Example", "marac_chair", area="TEST-AREA")
    assert [a["area"] for a in hub.alerts(north)["alerts"]] == ["TEST-AREA"]
    assert [a["area"] for a in hub.alerts(north, area="TEST-AREA")["alerts"]] == ["TEST-AREA"]
    r = hub.api.client.get("/v1/alerts", headers=north, params={"area": "default"})
    assert r.status_code == 403
    assert "TEST-AREA" in detail_text(r) and "default" in detail_text(r)
    assert sorted(a["area"] for a in hub.alerts()["alerts"]) == ["TEST-AREA", "default"]


def test_only_marac_chairs_and_coordinators_read_alerts(hub: Hub) -> None:
    high_risk(hub)
    before = len(hub.audit_records())
    coordinator = hub.person("Coordinator Example", "marac_coordinator")
    assert len(hub.alerts(coordinator)["alerts"]) == 1
    ig = hub.person("IG Example", "ig_officer")
    officer = hub.api.key("PC Example", "person", "police", "TEST-POLICE-A")
    for headers in (ig, officer, hub.idva):
        r = hub.api.client.get("/v1/alerts", headers=headers)
        assert r.status_code == 403 and "Marac chairs and coordinators" in detail_text(r)
    assert len(hub.audit_records()) == before + 1  # the coordinator's read only


def test_an_alert_resting_on_an_event_not_shared_is_withheld_with_its_name(hub: Hub) -> None:
    on_consent = b.dash(16, lawfulbasis="ukgdpr-6-1-a", consentref="TEST-NEVER-RECORDED")
    hub.send(hub.idva, on_consent)
    hub.process()
    body = hub.alerts()
    assert body["alerts"] == [] and body["withheld"] == 1
    assert body["refusals"] and "consent" in body["refusals"][0]
    assert "Alex Example" not in json.dumps(body)
    assert body["audit_record_id"] is None


def test_nothing_is_shown_when_the_audit_log_cannot_be_written(hub: Hub) -> None:
    high_risk(hub)
    with hub.api.services.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    r = hub.api.client.get("/v1/alerts", headers=hub.chair)
    assert r.status_code == 503 and "audit" in detail_text(r)
    assert "alerts" not in r.json()


def test_no_alerts_means_no_disclosure_record(hub: Hub) -> None:
    body = hub.alerts()
    assert body["alerts"] == [] and body["revision"] == 0 and body["audit_record_id"] is None
    assert hub.audit_records() == []


def test_acknowledging_stores_a_hub_event_that_becomes_the_status(hub: Hub) -> None:
    alert = high_risk(hub)
    r = hub.act(alert["alert_id"], "acknowledge")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "acknowledged" and "Hub-Duplicate" not in r.headers
    event = hub.api.services.ingress.store.get(r.json()["hub_id"])
    assert event is not None and event.type == internal.ALERT_ACKNOWLEDGED
    assert event.agency_id == "hub"
    assert [(s.token, s.role) for s in event.subjects] == [(alert["victim_token"], "victim")]
    assert event.data["alert_id"] == alert["alert_id"]
    assert event.data["actor_role"] == "marac_chair" and event.data["actor"]
    with hub.api.services.engine.connect() as conn:  # the relay will publish it
        assert conn.execute(select(outbox.c.value)).scalars().all()[-1] == event.to_json()

    again = hub.act(alert["alert_id"], "acknowledge")  # a retry: the same answer
    assert again.status_code == 202 and again.json() == r.json()
    assert again.headers["Hub-Duplicate"] == "true"

    hub.process()
    [now] = hub.alerts()["alerts"]
    assert now["status"] == "acknowledged" and now["revision"] > alert["revision"]
    assert now["status_detail"]["event_id"] == event.hub_id
    assert now["status_detail"]["by"] == event.data["actor"]
    state = find_family(hub.api.services.engine, alert["family_id"]).state
    assert event.hub_id in [e["hub_id"] for e in state["timeline"]]  # in the family's timeline
    late = hub.act(alert["alert_id"], "acknowledge")
    assert late.status_code == 409 and "already acknowledged" in detail_text(late)


def test_agenda_then_dismiss_and_a_second_dismissal_is_a_conflict(hub: Hub) -> None:
    alert = high_risk(hub)
    r = hub.act(alert["alert_id"], "agenda", meeting_date="2026-04-01")
    assert r.status_code == 202 and r.json()["status"] == "on_agenda"
    same = hub.api.services.ingress.store.get(r.json()["hub_id"])
    assert same.data["meeting_date"] == "2026-04-01"
    hub.process()
    [now] = hub.alerts(status="on_agenda")["alerts"]
    assert now["status_detail"]["meeting_date"] == "2026-04-01"
    moved = hub.act(alert["alert_id"], "agenda", meeting_date="2026-04-15")
    assert moved.status_code == 202
    twice = hub.act(alert["alert_id"], "agenda", meeting_date="2026-04-15")  # not yet applied
    assert twice.headers.get("Hub-Duplicate") == "true"

    missing = hub.act(alert["alert_id"], "dismiss")
    assert missing.status_code == 422
    assert [e["path"] for e in missing.json()["detail"]] == ["reason"]
    blank = hub.act(alert["alert_id"], "dismiss", reason="  ")
    assert blank.status_code == 422 and blank.json()["detail"][0]["path"] == "reason"

    reason = "Already held by the Marac in the neighbouring area (fictional)."
    dismissed = hub.act(alert["alert_id"], "dismiss", reason=reason)
    assert dismissed.status_code == 202
    # dismissing again before the worker applied it: the stored decision counts
    again = hub.act(alert["alert_id"], "dismiss", reason="Another reason given later.")
    assert again.status_code == 409 and "already dismissed" in detail_text(again)
    hub.process()
    [gone] = hub.alerts(status="dismissed")["alerts"]
    assert gone["status_detail"]["reason"] == reason
    assert hub.act(alert["alert_id"], "dismiss", reason="Once more.").status_code == 409
    back = hub.act(alert["alert_id"], "agenda")  # a dismissal can be reconsidered
    assert back.status_code == 202


def test_a_dismissed_alert_whose_condition_grows_is_new_again(hub: Hub) -> None:
    alert = high_risk(hub, time="2026-03-01T10:00:00Z")
    reason = {"reason": "Assessment entered twice by mistake (fictional)."}
    assert hub.act(alert["alert_id"], "dismiss", **reason).status_code == 202
    hub.process()
    assert hub.alerts(status="new")["alerts"] == []
    hub.send(hub.idva, b.dash(18, time="2026-03-05T10:00:00Z"))  # a later assessment, same cycle
    hub.process()
    [again] = hub.alerts(status="new")["alerts"]
    assert again["alert_id"] == alert["alert_id"] and again["status"] == "reopened"
    assert len(again["triggering_event_ids"]) == 2
    assert hub.alerts(status="reopened")["alerts"][0]["alert_id"] == alert["alert_id"]
    assert hub.act(alert["alert_id"], "dismiss", **reason).status_code == 202


def test_decisions_are_refused_for_unknown_alerts_other_areas_and_other_roles(hub: Hub) -> None:
    alert = high_risk(hub)
    unknown = hub.act("00000000-0000-0000-0000-000000000000", "acknowledge")
    assert unknown.status_code == 404
    south = hub.person("South Chair Example", "marac_chair", area="TEST-AREA-SOUTH")
    other = hub.act(alert["alert_id"], "acknowledge", south)
    assert other.status_code == 403 and "TEST-AREA-SOUTH" in detail_text(other)
    officer = hub.api.key("PC Example", "person", "police", "TEST-POLICE-A")
    assert hub.act(alert["alert_id"], "acknowledge", officer).status_code == 403
    assert hub.act("not-an-id", "acknowledge").status_code == 422
    extra = hub.act(alert["alert_id"], "agenda", meeting_date="2026-04-01", room="B")
    assert extra.status_code == 422
    stored = [e.type for _, e in hub.api.services.ingress.store.read()]
    assert internal.ALERT_ACKNOWLEDGED not in stored and internal.ALERT_AGENDA_ADDED not in stored


def test_a_decision_is_audited_before_it_is_stored(hub: Hub) -> None:
    alert = high_risk(hub)
    r = hub.act(alert["alert_id"], "acknowledge")
    record = hub.audit_records()[-1]
    assert record["action"] == f"POST /v1/alerts/{alert['alert_id']}/acknowledge"
    assert record["outcome"] == "alert acknowledge"
    assert record["items"] == sorted([alert["alert_id"], r.json()["hub_id"]])
    with hub.api.services.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    refused = hub.act(alert["alert_id"], "agenda")
    assert refused.status_code == 503
    stored = [e.type for _, e in hub.api.services.ingress.store.read()]
    assert internal.ALERT_AGENDA_ADDED not in stored


def test_a_chair_cannot_act_on_an_alert_they_may_not_see(hub: Hub) -> None:
    hub.send(hub.idva, b.dash(16, lawfulbasis="ukgdpr-6-1-a", consentref="TEST-NEVER-RECORDED"))
    hub.process()
    with hub.api.services.engine.connect() as conn:
        alert_id = conn.execute(select(alerts_table.c.alert_id)).scalar_one()
    r = hub.act(alert_id, "acknowledge")
    assert r.status_code == 403 and "sharing policy" in detail_text(r)


# --- the cursor ----------------------------------------------------------------------------


def test_changes_since_pages_end_on_a_whole_revision(hub: Hub) -> None:
    for n in range(5):
        hub.send(hub.idva, b.dash(16, subjects=[b.victim(f"99900003{n:02d}", "Test Person")]))
    hub.process()
    engine = hub.api.services.engine
    with engine.begin() as conn:  # two rows share a revision, as one change may cover several
        revs = conn.execute(select(alerts_table.c.revision).order_by("revision")).scalars().all()
        assert revs == [1, 2, 3, 4, 5]
        conn.execute(alerts_table.update().where(alerts_table.c.revision == 3).values(revision=2))
    seen, cursor, pages = [], 0, 0
    while True:
        page, cursor = changes_since(engine, cursor, AlertQuery(limit=2))
        if not page:
            break
        pages += 1
        seen += [a.revision for a in page]
    assert seen == [1, 2, 2, 4, 5] and cursor == 5 and pages == 4  # [1] [2 2] [4] [5]
    page, after = changes_since(engine, 0, AlertQuery(area="elsewhere"))
    assert page == [] and after == 5  # a quiet filter still moves on


# --- the live stream, on a real HTTP server ------------------------------------------------


class Served:
    def __init__(self, server: uvicorn.Server, base: str, services: Any) -> None:
        self.server, self.base = server, base
        self.hub = Hub(Api(httpx.Client(base_url=base, timeout=10), services))  # type: ignore[arg-type]

    def idle(self) -> bool:
        """No request is being served (a stream that ended has left; an idle keep-alive
        connection may stay)."""
        return not self.server.server_state.tasks


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setattr(alert_stream, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(alert_stream, "KEEPALIVE_SECONDS", 0.3)
    app = create_app(Settings(data_dir=tmp_path))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                       timeout_graceful_shutdown=2)
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the API to start")
    s = Served(server, f"http://127.0.0.1:{port}", app.state.services)
    try:
        yield s
    finally:
        s.hub.api.client.close()
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive(), "the server did not stop"


class SseReader:
    """Reads a server-sent event stream in a thread; ``events`` holds each event as a dict
    (event, id, data parsed as JSON, comments)."""

    def __init__(self, base: str, headers: dict[str, str], **params: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self.status: int | None = None
        self._client = httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=None))
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, args=(headers, params), daemon=True)
        self._thread.start()

    def _run(self, headers: dict[str, str], params: dict[str, Any]) -> None:
        with (
            contextlib.suppress(httpx.HTTPError),
            self._client.stream("GET", "/v1/alerts/stream", headers=headers, params=params) as r,
        ):
            self._response, self.status = r, r.status_code
            self._socket = r.extensions["network_stream"].get_extra_info("socket")
            block: dict[str, Any] = {}
            for line in r.iter_lines():
                if line == "":
                    if block:
                        self.events.append(block)
                    block = {}
                elif line.startswith(":"):
                    block.setdefault("comments", []).append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    block[name] = json.loads(value) if name == "data" else value

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    def comments(self) -> list[str]:
        return [c for e in self.events for c in e.get("comments", [])]

    def close(self) -> None:
        """Hang up: shutting the socket down wakes the reading thread (closing it would not)."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._client.close()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the stream reader did not stop"


@pytest.fixture
def readers() -> Iterator[list[SseReader]]:
    opened: list[SseReader] = []
    yield opened
    for reader in opened:
        reader.close()


def open_stream(served: Served, readers: list, headers: dict[str, str], **params: Any):
    reader = SseReader(served.base, headers, **params)
    readers.append(reader)
    wait_for(lambda: reader.comments(), 10, "the stream to start")
    return reader


def test_the_stream_pushes_new_and_changed_alerts_each_audited(
    served: Served, readers: list
) -> None:
    hub = served.hub
    reader = open_stream(served, readers, hub.chair)
    assert reader.status == 200 and reader.comments()[0] == "alerts after revision 0"
    hub.send(hub.idva, b.dash(16))
    hub.process()
    [raised] = wait_for(lambda: reader.of("alert"), 10, "the new alert")
    assert raised["id"] == "1" and raised["data"]["revision"] == 1
    assert raised["data"]["people"][0]["name"] == "Alex Example"
    alert_id = raised["data"]["alert_id"]
    assert hub.act(alert_id, "acknowledge").status_code == 202
    hub.process()
    changed = wait_for(lambda: reader.of("alert")[1:], 10, "the acknowledged alert")[0]
    assert changed["id"] == "2" and changed["data"]["status"] == "acknowledged"
    pushed = [r for r in hub.audit_records() if r["action"] == "GET /v1/alerts/stream"]
    assert [r["items"] for r in pushed] == [[alert_id], [alert_id]]
    assert all("people.name" in r["fields"] for r in pushed)


def test_a_client_that_reconnects_gets_what_it_missed_once(served: Served, readers: list) -> None:
    hub = served.hub
    hub.send(hub.idva, b.dash(16))
    hub.send(hub.idva_z, b.dash(16, subjects=[JO]))
    hub.process()
    resumed = open_stream(served, readers, {**hub.chair, "Last-Event-ID": "1"})
    [missed] = wait_for(lambda: resumed.of("alert"), 10, "the alert after revision 1")
    assert missed["id"] == "2"
    everything = open_stream(served, readers, hub.chair, after=0)
    wait_for(lambda: len(everything.of("alert")) == 2, 10, "both alerts")
    assert [e["id"] for e in everything.of("alert")] == ["1", "2"]
    wait_for(lambda: "keep-alive" in resumed.comments(), 10, "a keep-alive comment")
    assert [e["id"] for e in resumed.of("alert")] == ["2"]


def test_the_stream_keeps_to_the_area_the_filters_and_the_policy(
    served: Served, readers: list
) -> None:
    hub = served.hub
    north = hub.person("North Chair Example", "marac_chair", area="TEST-AREA")
    mine = open_stream(served, readers, north, rule="visible_high_risk")
    hub.send(hub.idva_z, b.dash(16, subjects=[JO]))  # default area
    hub.send(hub.idva, b.dash(7, subjects=[b.victim("9990000404", "Max Fakename")]))  # medium
    consent = b.dash(16, lawfulbasis="ukgdpr-6-1-a", consentref="TEST-NEVER-RECORDED")
    hub.send(hub.idva, consent)  # TEST-AREA, but not shared with a chair
    hub.send(hub.idva, b.dash(16, subjects=[b.victim("9990000505", "Robin Demo")]))
    hub.process()
    [shown] = wait_for(lambda: mine.of("alert"), 10, "the one alert in scope")
    assert shown["data"]["people"][0]["name"] == "Robin Demo"
    [withheld] = wait_for(lambda: mine.of("withheld"), 10, "the withheld count")
    assert withheld["data"]["count"] == 1 and "Alex" not in json.dumps(mine.events)
    r = hub.api.client.get("/v1/alerts/stream", headers=north, params={"area": "default"})
    assert r.status_code == 403
    officer = hub.api.key("PC Example", "person", "police", "TEST-POLICE-A")
    assert hub.api.client.get("/v1/alerts/stream", headers=officer).status_code == 403
    bad = hub.api.client.get("/v1/alerts/stream", headers={**north, "Last-Event-ID": "x"})
    assert bad.status_code == 422


def test_the_stream_sends_nothing_it_cannot_audit_and_ends(served: Served, readers: list) -> None:
    hub = served.hub
    reader = open_stream(served, readers, hub.chair)
    with hub.api.services.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    hub.send(hub.idva, b.dash(16))
    hub.process()
    [error] = wait_for(lambda: reader.of("error"), 10, "the error event")
    assert "audit" in error["data"]["detail"] and reader.of("alert") == []
    wait_for(served.idle, 10, "the stream to end")


def test_a_client_that_goes_away_ends_its_stream(served: Served, readers: list) -> None:
    reader = open_stream(served, readers, served.hub.chair)
    assert not served.idle()
    reader.close()
    wait_for(served.idle, 10, "the stream to end on the server")


# --- through the broker ----------------------------------------------------------------------


def test_the_lifecycle_through_the_broker_with_the_stream_watching(
    running_hub: RunningHub, readers: list
) -> None:
    hub = running_hub
    services = build_services(hub.settings)

    def bearer(name: str, kind: str, role: str) -> dict[str, str]:
        agency = name if kind == "agency_system" else None
        return {"Authorization": f"Bearer {services.principals.add(name, kind, role, agency)[1]}"}

    idva = bearer("TEST-IDVA-A", "agency_system", "idva")
    chair = bearer("Chair Example", "person", "marac_chair")
    base = str(hub.http.base_url).rstrip("/")
    reader = SseReader(base, chair)
    readers.append(reader)
    wait_for(reader.comments, 30, "the stream to start")
    assert hub.http.post("/v1/events", json=b.dash(16), headers=idva).status_code == 202

    def pushed(status: str) -> dict[str, Any] | None:
        return next((e["data"] for e in reader.of("alert") if e["data"]["status"] == status), None)

    alert = wait_for(lambda: pushed("new"), 60, "the alert pushed by the stream")
    r = hub.http.post(f"/v1/alerts/{alert['alert_id']}/acknowledge", headers=chair)
    assert r.status_code == 202, r.text
    acknowledged = wait_for(lambda: pushed("acknowledged"), 60, "the acknowledgement applied")
    assert acknowledged["status_detail"]["event_id"] == r.json()["hub_id"]
    reason = {"reason": "Case already held by the neighbouring Marac (fictional)."}
    r = hub.http.post(f"/v1/alerts/{alert['alert_id']}/dismiss", json=reason, headers=chair)
    assert r.status_code == 202, r.text
    dismissed = wait_for(lambda: pushed("dismissed"), 60, "the dismissal applied")
    assert dismissed["status_detail"]["reason"] == reason["reason"]
    assert [e["data"]["revision"] for e in reader.of("alert")] == [1, 2, 3]
    listed = hub.http.get("/v1/alerts", headers=chair, params={"status": "dismissed"}).json()
    assert [a["alert_id"] for a in listed["alerts"]] == [alert["alert_id"]]
    timeline = find_family(services.engine, alert["family_id"]).state["timeline"]
    assert [e["type"] for e in timeline if e["type"].startswith("hub.alert.")] == [
        internal.ALERT_ACKNOWLEDGED, internal.ALERT_DISMISSED,
    ]  # fmt: skip
