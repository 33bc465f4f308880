"""GET /metrics: what an operator's Prometheus scrapes. Events accepted and rejected by
reason, audit appends, disclosure refusals and login failures from the API; alerts by rule
and alert latency from the worker's own port; relay and consumer lag from the readiness
monitor. Counters are per process, so each test compares a scrape before and after."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.adapters.kafka.embedded import free_port
from hub.adapters.sql.logins import SqlLoginStore
from hub.bootstrap import build_services
from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests import builders as b
from tests.integration.conftest import Api, running_hub_for, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    app = create_app(Settings(data_dir=tmp_path, readiness_interval_seconds=0.2))
    with TestClient(app) as client:
        yield Api(client, app.state.services)


def scrape(api: Api) -> Samples:
    r = api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    return parse(r.text)


def test_events_are_counted_by_outcome_and_reason(api: Api) -> None:
    police = api.key("TEST-POLICE-A", "agency_system", "police")
    gp = api.key("TEST-GP-A", "agency_system", "gp")
    before = scrape(api)
    event = b.incident()
    sends = [
        (police, event, 202),
        (police, event, 202),  # resent: a duplicate
        (police, b.incident(time="2999-01-01T00:00:00Z"), 422),  # future_dated
        (police, b.incident(type="police.unheard_of"), 422),  # unknown_type
        (police, b.incident(lawfulbasis=None), 422),  # invalid: no lawful basis
        ({}, b.incident(), 401),  # unauthenticated
        (gp, b.incident(), 403),  # a GP may not send a police incident
    ]
    for headers, body, code in sends:
        assert api.client.post("/v1/events", json=body, headers=headers).status_code == code
    batch = api.client.post("/v1/events:batch", json=[b.incident(), {"id": "x"}], headers=police)
    assert batch.json()["accepted"] == 1 and batch.json()["rejected"] == 1
    after = scrape(api)

    def counted(outcome: str, reason: str = "") -> float:
        return grew(before, after, "hub_events_total", way="http", outcome=outcome, reason=reason)

    assert counted("accepted") == 2  # one alone, one in the batch
    assert counted("duplicate") == 1
    for reason in ("future_dated", "unknown_type", "unauthenticated", "not_allowed"):
        assert counted("rejected", reason) == 1, reason
    assert counted("rejected", "invalid") == 2  # one alone, one in the batch


def test_audit_appends_disclosure_refusals_and_login_failures_are_counted(api: Api) -> None:
    chair = api.key("Chair Example", "person", "marac_chair")
    ig = api.key("IG Example", "person", "ig_officer")
    SqlLoginStore(api.services.engine).set_password("Chair Example", "correct horse battery")
    before = scrape(api)
    assert api.client.get("/v1/alerts", headers=chair).status_code == 200  # none: no record
    assert api.client.get(f"/v1/subjects/st_{'a' * 32}/events", headers=ig).status_code == 403
    form = api.client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    wrong = {"csrf_token": token.group(1), "name": "Chair Example", "password": "not it"}
    assert api.client.post("/login", data=wrong, follow_redirects=False).status_code != 303
    after = scrape(api)
    appended = sum(
        grew(before, after, name, **dict(labels))
        for name, labels in after
        if name == "hub_audit_appends_total"
    )
    assert appended == 1  # the IG officer's refusal
    assert grew(before, after, "hub_audit_appends_total", outcome="refused") == 1
    assert grew(before, after, "hub_disclosure_refusals_total") == 1
    assert grew(before, after, "hub_login_failures_total") == 1


def test_lag_gauges_come_from_the_readiness_checks(api: Api) -> None:
    police = api.key("TEST-POLICE-A", "agency_system", "police")
    for _ in range(3):
        assert api.client.post("/v1/events", json=b.incident(), headers=police).status_code == 202
    # no broker here, so nothing is published: the relay's backlog shows at the next check
    seen = wait_for(
        lambda: (s := scrape(api)) and value(s, "hub_relay_unsent") == 3 and s,
        30,
        "the three unsent events in hub_relay_unsent",
    )
    assert value(seen, "hub_ready") == 0
    assert value(seen, "hub_check_database_ok") == 1
    assert value(seen, "hub_check_broker_ok") == 0


@pytest.mark.integration
def test_the_worker_counts_alerts_by_rule_and_their_latency(hub_settings: Settings) -> None:
    worker_port = free_port()
    settings = hub_settings.replace(worker_metrics_port=worker_port, readiness_interval_seconds=0.5)
    with contextlib.contextmanager(running_hub_for)(settings) as hub:
        services = build_services(settings)
        _p, key = services.principals.add("TEST-IDVA-A", "agency_system", "idva", "TEST-IDVA-A")
        services.engine.dispose()
        idva = {"Authorization": f"Bearer {key}"}
        assert hub.http.post("/v1/events", json=b.dash(16), headers=idva).status_code == 202

        def worker_samples() -> Samples | None:
            try:
                text = httpx.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=5).text
            except httpx.TransportError:
                return None  # the worker is still starting
            s = parse(text)
            raised = value(s, "hub_alerts_raised_total", rule="visible_high_risk")
            return s if raised >= 1 else None

        s = wait_for(worker_samples, 90, "the worker to count the visible-high-risk alert")
        assert value(s, "hub_alert_latency_seconds_count") >= 1
        assert value(s, "hub_alert_latency_seconds_sum") > 0

        # The relay marks a row sent only after the broker's ack, so the worker may have
        # applied the event before the relay's mark: "nothing waiting" is all three at once.
        def applied() -> Samples | None:
            api = parse(hub.http.get("/metrics").text)
            done = (
                value(api, "hub_ready") == 1
                and value(api, "hub_consumer_unapplied") == 0
                and value(api, "hub_relay_unsent") == 0
            )
            return api if done else None

        api_samples = wait_for(applied, 60, "the API to report the hub ready, nothing waiting")
        assert value(api_samples, "hub_relay_lag_seconds") == 0
