"""The administrator's pages: agency systems (a key shown once that works on /v1 until it is
rotated or revoked), signing keys, people (a temporary password shown once that logs them in,
reset, disable), the rules in force and the sharing policy. Only an administrator gets in: a
chair gets 403, audited as refused; no form works without the session's CSRF token; every
change is in the audit log with who and why, and no key or password ever is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.accounts import SqlAccounts
from hub.adapters.sql.logins import SqlLoginStore
from hub.bootstrap import Services, build_services
from hub.contract import signing
from hub.contract.examples import EXAMPLES
from hub.domain.rules.catalogue import CATALOGUE
from hub.entrypoints.api.app import create_app
from hub.services.admin import Administration, operator
from hub.settings import Settings

PASSWORD = "correct horse battery staple"
ADMIN_PAGES = ("/admin/agencies", "/admin/people", "/admin/rules", "/admin/policy",
               "/admin/agencies/TEST-POLICE-A", "/admin/people/Chair%20Example")  # fmt: skip


class Web:
    def __init__(self, client: TestClient, services: Services, audit: InMemoryAuditLog) -> None:
        self.client, self.services, self.audit = client, services, audit

    def person(self, name: str, role: str) -> str:
        p, _key = self.services.principals.add(name, "person", role, None)
        SqlLoginStore(self.services.engine).set_password(name, PASSWORD)
        return p.principal_id

    def log_in(self, name: str, password: str = PASSWORD) -> Any:
        self.client.cookies.clear()
        form = self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        data = {"csrf_token": token.group(1), "name": name, "password": password}
        return self.client.post("/login", data=data, follow_redirects=False)

    def post(self, path: str, **data: str) -> Any:
        """A form of the pages, with this session's CSRF token."""
        page = self.client.get("/admin/rules")  # a refusal page has the token too
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        token = found.group(1) if found else ""
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.audit.records()]

    def v1_status(self, key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return self.client.post("/v1/events", json=EXAMPLES["police.incident"],
                                headers=headers).status_code  # fmt: skip


def shown(page: Any, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]+)<', page.text)
    assert found is not None, f"no #{element_id} on the page"
    return unescape(found.group(1))


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    settings = Settings(data_dir=tmp_path)
    audit = InMemoryAuditLog()
    app = create_app(settings, build_services(settings, audit=audit))
    with TestClient(app) as client:
        w = Web(client, app.state.services, audit)
        w.admin_id = w.person("Admin Example", "admin")  # type: ignore[attr-defined]
        yield w


def test_admin_pages_need_a_login(web: Web) -> None:
    for path in ADMIN_PAGES:
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_an_administrator_lands_on_their_pages_and_sees_their_menu(web: Web) -> None:
    r = web.log_in("Admin Example")
    assert r.headers["location"] == "/admin"
    page = web.client.get("/admin")
    assert page.status_code == 200 and '<h1 class="govuk-heading-l">Agency systems' in page.text
    for label in ("Agency systems", "People", "Rules in force", "Sharing policy"):
        assert f">{label}</a>" in page.text


def test_a_chair_is_refused_every_admin_page_and_each_refusal_is_audited(web: Web) -> None:
    chair = web.person("Chair Example", "marac_chair")
    web.log_in("Chair Example")
    for path in ADMIN_PAGES:
        r = web.client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 403 and "may not administer the hub" in r.text, path
    r = web.post("/admin/agencies", name="TEST-POLICE-A", type="police", reason="testing")
    assert r.status_code == 403
    assert SqlAccounts(web.services.engine).named("TEST-POLICE-A") is None
    refused = [b for b in web.bodies() if b["principal_id"] == chair]
    assert len(refused) >= len(ADMIN_PAGES) + 1
    assert {b["outcome"] for b in refused} == {"refused"}
    assert {b["purpose"] for b in refused} == {"hub_administration"}
    assert "admin add agency" in {b["action"] for b in refused}


def test_no_admin_form_works_without_the_csrf_token(web: Web) -> None:
    web.log_in("Admin Example")
    before = len(web.bodies())
    for path, data in (
        ("/admin/agencies", {"name": "TEST-POLICE-A", "type": "police", "reason": "testing"}),
        ("/admin/people", {"name": "Someone", "role": "admin", "reason": "testing"}),
        ("/admin/people/Admin%20Example/reset-password", {"reason": "testing"}),
    ):
        for token in ({}, {"csrf_token": "forged"}):
            assert web.client.post(path, data={**data, **token}).status_code == 403, path
    assert len(web.bodies()) == before  # nothing done, nothing recorded as done


def test_an_agency_key_is_shown_once_works_on_v1_and_stops_when_rotated_or_revoked(
    web: Web,
) -> None:
    web.log_in("Admin Example")
    r = web.post("/admin/agencies", name="TEST-POLICE-A", type="police",
                 reason="New police force joins the hub")  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    key = shown(r, "api-key")
    assert key.startswith("hubk_")
    listing = web.client.get("/admin/agencies").text
    assert "TEST-POLICE-A" in listing and key not in listing  # once only
    assert key not in web.client.get("/admin/agencies/TEST-POLICE-A").text
    assert web.v1_status(key) == 202

    r = web.post("/admin/agencies/TEST-POLICE-A/rotate-key", reason="Key seen in an email")
    new_key = shown(r, "api-key")
    assert new_key != key
    assert web.v1_status(key) == 401  # at once: the key cache forgets it
    assert web.v1_status(new_key) == 202

    r = web.post("/admin/agencies/TEST-POLICE-A/revoke", reason="Force leaves the hub")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=revoked")
    assert web.v1_status(new_key) == 401
    assert "Key revoked" in web.client.get("/admin/agencies").text

    changes = [b for b in web.bodies() if b["outcome"] == "changed"]
    assert [(b["action"], b["reason"], b["principal_id"]) for b in changes] == [
        ("admin add agency", "New police force joins the hub", web.admin_id),  # type: ignore[attr-defined]
        ("admin rotate agency key", "Key seen in an email", web.admin_id),  # type: ignore[attr-defined]
        ("admin revoke agency", "Force leaves the hub", web.admin_id),  # type: ignore[attr-defined]
    ]
    assert all(b["role"] == "admin" and b["fields"] == ["api_key"] for b in changes)
    assert changes[-1]["target"]["agency_id"] == "TEST-POLICE-A"
    log = json.dumps(web.bodies())
    assert key not in log and new_key not in log and key.split("_", 2)[2] not in log


def test_a_change_without_a_reason_is_shown_by_its_field_and_not_made(web: Web) -> None:
    web.log_in("Admin Example")
    r = web.post("/admin/agencies", name="TEST-POLICE-A", type="police", reason=" ")
    assert r.status_code == 400
    assert 'class="govuk-error-summary"' in r.text and 'href="#reason"' in r.text
    assert 'id="reason-error"' in r.text and "TEST-POLICE-A" in r.text  # typed values kept
    r = web.post("/admin/agencies", name="not an id!", type="spaceship", reason="testing")
    assert r.status_code == 400 and 'href="#name"' in r.text
    assert SqlAccounts(web.services.engine).named("TEST-POLICE-A") is None
    assert [b for b in web.bodies() if b["outcome"] == "changed"] == []


def test_a_signing_key_uploaded_on_the_page_is_registered(web: Web) -> None:
    web.services.principals.add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")
    web.log_in("Admin Example")
    private = signing.generate_private_key()
    raw = signing.raw_public_key(private)
    r = web.post("/admin/agencies/TEST-POLICE-A/signing-keys", reason="Kafka-direct pilot",
                 public_key=signing.public_key_pem(raw).decode())  # fmt: skip
    assert r.status_code == 303
    identity = web.services.principals.signing_identity("TEST-POLICE-A")
    assert identity is not None and identity[1] == [raw]
    key_id = signing.signing_key_id(raw)
    assert key_id in web.client.get("/admin/agencies/TEST-POLICE-A").text
    bad = web.post("/admin/agencies/TEST-POLICE-A/signing-keys", reason="again",
                   public_key="not a key")  # fmt: skip
    assert bad.status_code == 400 and 'href="#key-public_key"' in bad.text
    r = web.post(f"/admin/agencies/TEST-POLICE-A/signing-keys/{key_id}/revoke", reason="lost")
    assert r.status_code == 303
    assert web.services.principals.signing_identity("TEST-POLICE-A") is None
    actions = [b["action"] for b in web.bodies() if b["outcome"] == "changed"]
    assert actions == ["admin add signing key", "admin revoke signing key"]


def test_a_person_added_logs_in_with_the_password_shown_once_until_reset_or_disabled(
    web: Web,
) -> None:
    web.log_in("Admin Example")
    r = web.post("/admin/people", name="North Chair Example", role="marac_chair",
                 area="TEST-AREA", agency="", reason="New chair for the north")  # fmt: skip
    assert r.status_code == 200
    first = shown(r, "password")
    assert len(first) >= 12 and shown(r, "api-key").startswith("hubk_")
    assert first not in web.client.get("/admin/people").text

    r = web.post("/admin/people/North%20Chair%20Example/reset-password", reason="Forgotten")
    second = shown(r, "password")
    assert web.log_in("North Chair Example", first).status_code == 401
    assert web.log_in("North Chair Example", second).status_code == 303
    chosen = "a password the chair chose"
    assert choose_password(web, second, chosen).headers["location"] == "/alerts"
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200
    chair_cookie = web.client.cookies.get("hub_session")

    web.log_in("Admin Example")
    r = web.post("/admin/people/North%20Chair%20Example/disable", reason="Left the service")
    assert r.status_code == 303
    web.client.cookies.clear()
    web.client.cookies.set("hub_session", chair_cookie)  # the chair's session ends with it
    assert web.client.get("/alerts", follow_redirects=False).status_code == 303
    assert web.log_in("North Chair Example", chosen).status_code == 401

    changes = [b for b in web.bodies() if b["outcome"] == "changed"]
    assert [(b["action"], b["reason"]) for b in changes] == [
        ("admin add person", "New chair for the north"),
        ("admin set password", "Forgotten"),
        ("admin disable person", "Left the service"),
    ]
    log = json.dumps(web.bodies())
    assert first not in log and second not in log


def choose_password(web: Web, current: str, new: str, again: str | None = None) -> Any:
    """The password page's form, sent with the session's CSRF token."""
    form = web.client.get("/account/password?next=%2Falerts")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "current": current, "password": new,
            "again": new if again is None else again}  # fmt: skip
    return web.client.post("/account/password?next=%2Falerts", data=data, follow_redirects=False)


def test_a_temporary_password_must_be_changed_before_any_other_page_works(web: Web) -> None:
    web.log_in("Admin Example")
    r = web.post("/admin/people", name="West Chair Example", role="marac_chair",
                 area="TEST-AREA", agency="", reason="New chair for the west")  # fmt: skip
    temporary = shown(r, "password")

    assert web.log_in("West Chair Example", temporary).headers["location"] == "/alerts"
    for path in ("/alerts", "/meeting", "/reports/outcomes", "/families/f_any", "/"):
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/account/password"), path
    r = web.client.get("/alerts", follow_redirects=False)
    assert r.headers["location"] == "/account/password?next=%2Falerts"  # and back after
    form = web.client.get("/account/password")
    assert form.status_code == 200 and "temporary password" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None  # a form too is sent to the password page, and nothing done
    r = web.client.post("/alerts/a_any/acknowledge", data={"csrf_token": token.group(1)},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/account/password")

    # each mistake is said by its field, and the password stays temporary
    new = "west chair's own password"
    for current, chosen, again, field in (
        ("not the one", new, new, "current"),
        (temporary, "too short", "too short", "password"),
        (temporary, temporary, temporary, "password"),
        (temporary, new, new + " typo", "again"),
    ):
        r = choose_password(web, current, chosen, again)
        assert r.status_code == 400 and f'href="#{field}"' in r.text, field
        assert 'class="govuk-error-summary"' in r.text
        assert web.client.get("/alerts", follow_redirects=False).status_code == 303

    r = choose_password(web, temporary, new)
    assert (r.status_code, r.headers["location"]) == (303, "/alerts")
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200
    assert web.client.get("/meeting", follow_redirects=False).status_code == 200
    assert web.log_in("West Chair Example", temporary).status_code == 401
    assert web.log_in("West Chair Example", new).status_code == 303
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200
    log = json.dumps(web.bodies())
    assert temporary not in log and new not in log


def test_a_password_the_administrator_sets_for_a_person_is_not_temporary(web: Web) -> None:
    # the operator types a password the person chose (hub users set-password): no change asked
    web.services.principals.add("East Chair Example", "person", "marac_chair", None)
    admin = Administration(web.services.engine, web.audit, web.services.key_cache,
                           web.services.ingress.agency_types)  # fmt: skip
    admin.set_password(operator("test"), "East Chair Example", PASSWORD, "Their own choice")
    assert web.log_in("East Chair Example").status_code == 303
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200
    temporary = admin.reset_password(operator("test"), "East Chair Example", "Forgotten")
    assert web.log_in("East Chair Example", temporary).status_code == 303
    assert web.client.get("/alerts", follow_redirects=False).status_code == 303


def test_an_area_is_for_marac_roles_and_a_practitioner_needs_an_agency(web: Web) -> None:
    web.log_in("Admin Example")
    r = web.post("/admin/people", name="GP Example", role="gp", agency="", reason="testing")
    assert r.status_code == 400 and 'href="#agency"' in r.text
    r = web.post("/admin/people", name="IG Example", role="ig_officer", area="TEST-AREA",
                 reason="testing")  # fmt: skip
    assert r.status_code == 400 and 'href="#area"' in r.text


def test_the_rules_page_names_every_rule_with_its_words_and_the_area_settings(web: Web) -> None:
    web.log_in("Admin Example")
    page = unescape(web.client.get("/admin/rules?area=TEST-AREA").text)
    for r in CATALOGUE:
        assert r.title in page and r.description in page
    assert "Rules in force in TEST-AREA" in page and "From [default]" in page
    r = web.client.get("/admin/rules?area=NOWHERE")
    assert r.status_code == 400 and 'href="#area"' in r.text


def test_the_policy_page_says_what_a_role_sees_of_each_event_type(web: Web) -> None:
    web.log_in("Admin Example")
    page = unescape(web.client.get("/admin/policy?role=gp&purpose=marac_case_preparation").text)
    assert "police.incident" in page and "involvement_only" in page
    assert "Involvement only" in page  # the view in words
    r = web.client.get("/admin/policy?role=astronaut")
    assert r.status_code == 400 and 'href="#role"' in r.text
