"""The demo's showcase family gives the chair's family page something real to show: five
people and their relations on the genogram, a repeat after the Marac hearing, and a later Dash
scoring lower with the page's warning. Sent through the API as the demo sends it, linked and
projected in-process, and read through the page (same policy point and audit)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.families import family_id_of_token
from hub.bootstrap import build_services
from hub.entrypoints.api.app import create_app
from hub.entrypoints.web import family as family_page
from hub.settings import Settings
from producers.simulator import DEMO_AGENCIES, showcase_family, showcase_story
from tests.integration.test_web_security import Clock, Web
from tests.processing import process_stored


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, build_services(settings, audit=InMemoryAuditLog()))
    app.state.web.clock = Clock()
    with TestClient(app) as client:
        yield Web(client, app.state.services, app.state.web.clock)


def showcase(web: Web) -> str:
    """The showcase story sent, linked and projected; the family id, with a chair logged in."""
    keys = {
        name: web.services.principals.add(name, "agency_system", kind, name)[1]
        for name, kind in DEMO_AGENCIES.items()
    }
    start = datetime.now(UTC) - timedelta(days=365)
    for agency, event in showcase_story(start):
        r = web.client.post(
            "/v1/events", json=event, headers={"Authorization": f"Bearer {keys[agency]}"}
        )
        assert r.status_code == 202, r.text
    process_stored(web.services)

    f = showcase_family()
    victim = Tokeniser(web.services.ingress.tokeniser._key).token("nhs", f.victim.nhs_number)
    family = family_id_of_token(web.services.engine, victim)
    assert family is not None
    web.person("chair-showcase")
    web.log_in("chair-showcase")
    return family


def test_the_showcase_family_shows_five_people_a_repeat_and_a_downgrade(web: Web) -> None:
    family = showcase(web)
    f = showcase_family()
    page = web.client.get(f"/families/{family}")
    assert page.status_code == 200, page.text

    people = set(re.findall(r'<li data-person="[^"]+">([^<:]+):', page.text))
    everyone = [f.victim, f.perpetrator, f.previous_perpetrator, *f.children]
    assert people == {p.name for p in everyone if p is not None}
    relations = re.findall(r'<li data-kind="([^"]+)">', page.text)
    assert len(relations) >= 4  # two partners (current and previous) and two children

    assert "Risk downgraded" in page.text and "from 17" in page.text and "to 8" in page.text

    chair = web.services.principals.add("Chair Showcase API", "person", "marac_chair", None)[1]
    agenda = web.client.get(
        "/v1/marac/agenda",
        params={"area": "TEST-AREA"},
        headers={"Authorization": f"Bearer {chair}"},
    )
    assert agenda.status_code == 200, agenda.text
    [case] = [c for c in agenda.json()["cases"] if c["family_id"] == family]
    assert case["repeat"] is True


ROW_TIME = re.compile(r'<tr class="govuk-table__row"><td class="govuk-table__cell">([^<]+)</td>')


def test_the_timeline_pages_newest_first_keeping_the_filter(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = showcase(web)
    everything = web.client.get(f"/families/{family}").text
    table = everything.split('id="timeline-table"')[1].split("</table>")[0]
    whole = ROW_TIME.findall(table)
    monkeypatch.setattr(family_page, "TIMELINE_PAGE", 4)
    seen: list[str] = []
    url: str | None = f"/families/{family}"
    while url is not None:
        page = web.client.get(url)
        assert page.status_code == 200
        part = page.text.split('id="timeline-table"')[1].split("</table>")[0]
        rows = ROW_TIME.findall(part)
        assert 0 < len(rows) <= 4
        seen += rows
        older = re.search(
            r'href="([^"]+)" rel="next"', page.text.split("Pages of the timeline")[-1]
        )
        url = f"/families/{family}" + html.unescape(older.group(1)) if older else None
    assert seen == whole and len(whole) > 8  # every entry once, in the same order
    police = web.client.get(f"/families/{family}", params={"agency": "TEST-POLICE-A", "page": 2})
    assert "agency=TEST-POLICE-A&amp;page=1" in police.text  # the newer link keeps the filter
