"""The inbox pages through every alert of the reader's area, most urgent first: open alerts
before acted-on ones, the soonest due first (no deadline last), then the latest event. Walking
the pages gives each alert once, in that order, the filters kept on every link."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.adapters.memory import InMemoryAuditLog
from hub.bootstrap import build_services
from hub.entrypoints.api.app import create_app
from hub.entrypoints.web import inbox
from hub.settings import Settings
from producers.simulator import DEMO_AGENCIES, demo_stream
from tests.integration.test_web_security import Clock, Web
from tests.processing import process_stored

ROW = re.compile(r'<tr class="govuk-table__row" id="alert-([0-9a-f-]{36})"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setattr(inbox, "PER_PAGE", 4)  # a few families make several pages
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, build_services(settings, audit=InMemoryAuditLog()))
    app.state.web.clock = Clock()
    with TestClient(app) as client:
        yield Web(client, app.state.services, app.state.web.clock)


def urgency(a: dict[str, Any]) -> tuple[Any, ...]:
    """The order a chair needs, written out independently of the SQL that pages."""
    due = datetime.fromisoformat(a["due"]) if a["due"] else datetime.max.replace(tzinfo=UTC)
    latest = -datetime.fromisoformat(a["event_time"]).timestamp()
    return (a["status"] not in ("new", "reopened"), a["due"] is None, due, latest, a["alert_id"])


def test_walking_the_pages_gives_every_alert_once_most_urgent_first(web: Web) -> None:
    keys = {
        name: web.services.principals.add(name, "agency_system", kind, name)[1]
        for name, kind in DEMO_AGENCIES.items()
    }
    for agency, event in demo_stream(6, seed=3):
        r = web.client.post(
            "/v1/events", json=event, headers={"Authorization": f"Bearer {keys[agency]}"}
        )
        assert r.status_code == 202, r.text
    process_stored(web.services)
    chair = web.services.principals.add("Chair Paging", "person", "marac_chair", None)[1]
    listed = web.client.get(
        "/v1/alerts", params={"limit": 1000}, headers={"Authorization": f"Bearer {chair}"}
    ).json()["alerts"]
    assert len(listed) > 2 * inbox.PER_PAGE  # several pages, or the test proves nothing
    # Acknowledge the latest alert so that an acted-on one must sink below open ones.
    acted = listed[0]["alert_id"]
    r = web.client.post(
        f"/v1/alerts/{acted}/acknowledge", headers={"Authorization": f"Bearer {chair}"}
    )
    assert r.status_code == 202, r.text
    process_stored(web.services)
    listed = web.client.get(
        "/v1/alerts", params={"limit": 1000}, headers={"Authorization": f"Bearer {chair}"}
    ).json()["alerts"]
    assert {a["alert_id"]: a["status"] for a in listed}[acted] == "acknowledged"

    web.person("chair-paging")
    web.log_in("chair-paging")
    seen: list[str] = []
    url: str | None = "/alerts"
    while url is not None:
        page = web.client.get(url)
        assert page.status_code == 200, page.text
        seen += ROW.findall(page.text)
        found = NEXT.search(page.text)
        url = html.unescape(found.group(1)) if found else None
    assert seen == [a["alert_id"] for a in sorted(listed, key=urgency)]
    assert seen[-1] == acted  # every other alert is still open


def test_filters_are_kept_on_the_next_page_and_a_bad_page_is_an_error(web: Web) -> None:
    web.person("chair-paging")
    web.log_in("chair-paging")
    r = web.client.get("/alerts", params={"page": "0"})
    assert r.status_code == 400 and "Page must be a whole number from 1" in r.text
    r = web.client.get("/alerts", params={"page": "2", "rule": "visible_high_risk"})
    assert r.status_code == 200 and 'rel="prev"' in r.text
    prev = re.search(r'href="([^"]+)" rel="prev"', r.text)
    assert prev is not None
    assert html.unescape(prev.group(1)) == "/alerts?rule=visible_high_risk&page=1"
