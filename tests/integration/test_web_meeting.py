"""The Marac meeting pages: the chair records a hearing with its actions (a marac.case_heard
written by that person, audited before it is stored), the actions page shows them with their
state, the owning agency moves one on by API, an overdue one alerts, and another area's chair
can neither open nor record the case."""

from __future__ import annotations

import copy
import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.families import family_id_of_token
from hub.adapters.sql.principals import Principal
from hub.adapters.sql.schema import alerts
from hub.contract.examples import EXAMPLES, VICTIM
from hub.domain.internal import clock_tick
from hub.services.access import subject_area
from hub.services.errors import Forbidden
from hub.services.hearings import record_hearing
from tests.integration import test_web_review_pages as review_pages
from tests.integration.test_web_review_pages import last_audit, last_event, send, token
from tests.integration.test_web_security import Web
from tests.processing import process_stored

HEARING_LINK = re.compile(r'href="(/meeting/cases/f_[a-z2-7]+/hearing\?victim=st_[a-z2-7]+[^"]*)"')
TODAY = datetime.now(UTC).date()

# the review pages' fixtures: a hub app with an in-memory audit log, and a browser-like client
audit_log, web = review_pages.audit_log, review_pages.web


@pytest.fixture
def area(web: Web) -> str:
    """A high-risk case (incident, then a Dash of 16): on its area's agenda; the area."""
    send(web, "TEST-POLICE-A", "police", EXAMPLES["police.incident"])
    send(web, "TEST-IDVA-A", "idva", EXAMPLES["risk.dash"])
    process_stored(web.services)
    found = subject_area(web.services, token(web, "nhs", "9990000001"))
    assert found is not None
    return found


def hearing_form(csrf: str, meeting: date, *rows: dict[str, str]) -> dict[str, str]:
    form = {"csrf_token": csrf, "meeting_date": meeting.isoformat(), "risk_discussed": "high",
            "present-TEST-POLICE-A": "yes", "present-TEST-IDVA-A": "yes"}  # fmt: skip
    for n, row in enumerate(rows, 1):
        form |= {f"action-{n}-{k}": v for k, v in row.items()}
    return form


SPOC = {"owner_agency": "TEST-IDVA-A", "action": "spoc", "text": "Idva to be the single point"}
FLAG = {"owner_agency": "TEST-POLICE-A", "action": "flag_files", "text": "Flag the address"}


def open_case(web: Web, area: str) -> str:
    """Log in as the chair of the case's area; the link to record its hearing."""
    web.person("chair-home", area=area)
    web.log_in("chair-home")
    page = web.client.get("/meeting")
    assert page.status_code == 200 and "Alex Example" in page.text
    [link] = HEARING_LINK.findall(page.text)
    return html.unescape(link)


def actions_page(web: Web, area: str, **query: str) -> dict[str, str]:
    """action id → shown state, from the actions page."""
    page = web.client.get("/meeting/actions", params={"area": area, **query})
    assert page.status_code == 200, page.text
    return dict(re.findall(r'data-action-id="([^"]+)" data-state="([^"]+)"', page.text))


def test_the_meeting_pages_need_a_login(web: Web) -> None:
    for path in ("/meeting", "/meeting/actions"):
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_a_chair_records_a_hearing_with_two_actions_and_follows_them(
    web: Web, area: str, audit_log: InMemoryAuditLog
) -> None:
    link = open_case(web, area)
    assert "Research prompts" in web.client.get("/meeting").text
    assert last_audit(audit_log)["action"] == f"GET /v1/marac/agenda?area={area}"
    form = web.client.get(link)
    assert form.status_code == 200 and 'name="action-2-owner_agency"' in form.text

    due_spoc, due_flag = TODAY + timedelta(days=7), TODAY - timedelta(days=1)
    sent = hearing_form(
        web.csrf(), TODAY - timedelta(days=3),
        {**SPOC, "due_date": due_spoc.isoformat()}, {**FLAG, "due_date": due_flag.isoformat()},
    )  # fmt: skip
    assert web.client.post(link, data={k: v for k, v in sent.items() if k != "csrf_token"}
                           ).status_code == 403  # no CSRF token: refused  # fmt: skip
    r = web.client.post(link, data=sent, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/meeting/actions?")

    stored = last_event(web)
    assert (stored.type, stored.agency_id, stored.agency_type) == (
        "marac.case_heard", "hub", "marac",
    )  # fmt: skip
    assert stored.data["actor_role"] == "marac_chair" and stored.data["area"] == area
    assert [a["action"] for a in stored.data["actions"]] == ["spoc", "flag_files"]
    assert stored.data["agencies_present"] == ["TEST-IDVA-A", "TEST-POLICE-A"]
    record = last_audit(audit_log)  # who recorded it: the audit record and the event agree
    assert record["outcome"] == "hearing recorded" and stored.hub_id in record["items"]
    assert record["principal_id"] == stored.data["actor"]

    process_stored(web.services)
    spoc, flag = f"{stored.hub_id}.1", f"{stored.hub_id}.2"
    assert actions_page(web, area) == {spoc: "open", flag: "overdue"}
    assert actions_page(web, area, agency="TEST-POLICE-A") == {flag: "overdue"}
    assert last_audit(audit_log)["action"].startswith(f"GET /meeting/actions?area={area}")

    # the Idva, owner of the SPOC action, marks it done by API; the police may not
    update = copy.deepcopy(EXAMPLES["marac.action.updated"])
    update["data"] |= {"action_id": spoc, "subjects": [VICTIM]}
    update["time"] = datetime.now(UTC).isoformat()
    send(web, "TEST-POLICE-B", "police", {**update, "id": "TEST-NOT-THE-OWNER"})
    process_stored(web.services)
    assert actions_page(web, area)[spoc] == "open"
    send_as(web, "TEST-IDVA-A", "idva", update)
    process_stored(web.services)
    assert actions_page(web, area) == {spoc: "done", flag: "overdue"}
    family = web.client.get(f"/families/{family_of_alex(web)}")
    assert f'data-action-id="{spoc}"' in family.text and "Done" in family.text

    # the hub clock passes the police's due date: the overdue action alerts the chair
    web.services.ingress.store.append(
        clock_tick(datetime.now(UTC)), "tick", web.services.settings.topic("hub.events.v1")
    )
    process_stored(web.services)
    assert overdue_alerts(web) == [area]


def send_as(web: Web, agency: str, agency_type: str, event: dict[str, Any]) -> None:
    """Send with a second key of an agency that already has one."""
    key = web.services.principals.add(f"{agency}-2", "agency_system", agency_type, agency)[1]
    r = web.client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text


def family_of_alex(web: Web) -> str:
    found = family_id_of_token(web.services.engine, token(web, "nhs", "9990000001"))
    assert found is not None
    return found


def overdue_alerts(web: Web) -> list[str]:
    with web.services.engine.connect() as conn:
        rows = conn.execute(select(alerts.c.area).where(alerts.c.rule == "action_overdue"))
        return [r for (r,) in rows]


def test_the_form_says_what_to_fix_the_gov_uk_way(web: Web, area: str) -> None:
    link = open_case(web, area)
    before = last_event(web).hub_id
    bad = hearing_form(web.csrf(), TODAY + timedelta(days=2), {**SPOC, "due_date": "someday"},
                       {"action": "dvds"})  # fmt: skip
    r = web.client.post(link, data=bad)
    assert r.status_code == 400 and "govuk-error-summary" in r.text
    for field in ("meeting_date", "action-1-due_date", "action-2-owner_agency"):
        assert f'href="#{field}"' in r.text and f'id="{field}-error"' in r.text, field
    assert 'value="Idva to be the single point"' in r.text  # what was typed is kept
    assert last_event(web).hub_id == before  # nothing stored


def test_another_area_s_chair_can_neither_open_nor_record_the_case(
    web: Web, area: str, audit_log: InMemoryAuditLog
) -> None:
    link = open_case(web, area)
    web.client.cookies.clear()
    web.person("chair-away", area="TEST-AREA-SOUTH")
    web.log_in("chair-away")
    assert "Alex Example" not in web.client.get("/meeting").text
    assert web.client.get(link).status_code == 404
    before = last_event(web).hub_id
    r = web.client.post(link, data=hearing_form(web.csrf(), TODAY, SPOC))
    assert r.status_code == 404 and last_event(web).hub_id == before
    # asked directly, the service refuses and audits the refusal
    fid = family_of_alex(web)
    victim = token(web, "nhs", "9990000001")
    away = Principal("TEST-CHAIR-AWAY", "chair-away", "person", "marac_chair", None,
                     "TEST-AREA-SOUTH")  # fmt: skip
    with pytest.raises(Forbidden):
        record_hearing(web.services, away, "marac_meeting", fid, victim, {"meeting_date": "x"})
    assert last_audit(audit_log)["outcome"].startswith("refused")
    assert actions_page(web, "TEST-AREA-SOUTH") == {}
