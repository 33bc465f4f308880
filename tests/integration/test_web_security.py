"""The people's pages keep people out who should be: no page without logging in, forms
without the session's CSRF token refused, sessions that end at logout and after the idle
timeout (a fake clock, no waiting), a lock-out after five wrong passwords, and a chair of
one area answered "not found" (and audited as refused) for another area's family."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.families import family_id_of_token
from hub.adapters.sql.logins import SqlLoginStore
from hub.bootstrap import Services, build_services
from hub.contract.examples import EXAMPLES
from hub.entrypoints.api.app import create_app
from hub.settings import Settings
from tests.processing import process_stored

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Web:
    def __init__(self, client: TestClient, services: Services, clock: Clock) -> None:
        self.client, self.services, self.clock = client, services, clock

    def person(self, name: str, area: str | None = None) -> None:
        self.services.principals.add(name, "person", "marac_chair", None, area)
        SqlLoginStore(self.services.engine).set_password(name, PASSWORD)

    def log_in(self, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        form = self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        return self.client.post(
            "/login", data={"csrf_token": token.group(1), "name": name, "password": password},
            follow_redirects=False,
        )  # fmt: skip

    def csrf(self) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get("/alerts").text)
        assert found is not None
        return found.group(1)


@pytest.fixture
def audit_log() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def web(tmp_path: Path, audit_log: InMemoryAuditLog) -> Iterator[Web]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, build_services(settings, audit=audit_log))
    clock = Clock()
    app.state.web.clock = clock
    with TestClient(app) as client:
        yield Web(client, app.state.services, clock)


def test_no_page_without_logging_in(web: Web) -> None:
    for path in ("/", "/alerts", "/alerts/stream", "/families/f_" + "a" * 32):
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login")
    r = web.client.post("/alerts/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "/acknowledge",
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_logging_in_opens_the_inbox_and_the_cookie_is_httponly(web: Web) -> None:
    web.person("chair-a")
    r = web.log_in("chair-a")
    assert r.status_code == 303 and r.headers["location"] == "/alerts"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = web.client.get("/alerts")
    assert page.status_code == 200 and "<h1" in page.text and "chair-a" in page.text


def test_a_form_without_the_csrf_token_is_refused(web: Web) -> None:
    web.person("chair-a")
    web.log_in("chair-a")
    alert = "/alerts/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "/acknowledge"
    assert web.client.post(alert, data={}).status_code == 403
    assert web.client.post(alert, data={"csrf_token": "forged"}).status_code == 403
    assert web.client.post("/logout", data={}).status_code == 403
    # the login form too: no double-submit cookie and field, no login
    web.client.cookies.clear()
    r = web.client.post("/login", data={"name": "chair-a", "password": PASSWORD})
    assert r.status_code == 403


def test_the_session_ends_at_logout(web: Web) -> None:
    web.person("chair-a")
    web.log_in("chair-a")
    session = web.client.cookies.get("hub_session")
    r = web.client.post("/logout", data={"csrf_token": web.csrf()}, follow_redirects=False)
    assert r.status_code == 303
    web.client.cookies.set("hub_session", session)  # a copy of the old cookie opens nothing
    assert web.client.get("/alerts", follow_redirects=False).status_code == 303


def test_the_session_ends_after_the_idle_timeout_and_not_before(web: Web) -> None:
    web.person("chair-a")
    web.log_in("chair-a")
    web.clock.now += timedelta(minutes=29)
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200  # kept alive
    web.clock.now += timedelta(minutes=29)
    assert web.client.get("/alerts", follow_redirects=False).status_code == 200
    web.clock.now += timedelta(minutes=31)
    r = web.client.get("/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    web.clock.now -= timedelta(minutes=31)  # ended for good, even if the clock went back
    assert web.client.get("/alerts", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_login_for_a_while(web: Web) -> None:
    web.person("chair-a")
    for _ in range(5):
        r = web.log_in("chair-a", "wrong password")
        assert r.status_code == 401 and "Enter a correct user name and password" in r.text
    r = web.log_in("chair-a")  # the right password, but locked
    assert r.status_code == 401 and "locked" in r.text
    web.clock.now += timedelta(minutes=16)
    assert web.log_in("chair-a").status_code == 303


def test_an_unknown_name_reads_like_a_wrong_password(web: Web) -> None:
    r = web.log_in("nobody-here")
    assert r.status_code == 401 and "Enter a correct user name and password" in r.text


def test_a_chair_of_another_area_cannot_open_the_family(
    web: Web, audit_log: InMemoryAuditLog
) -> None:
    police = web.services.principals.add(
        "TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A"
    )[1]
    r = web.client.post("/v1/events", json=EXAMPLES["police.incident"],
                        headers={"Authorization": f"Bearer {police}"})  # fmt: skip
    assert r.status_code == 202, r.text
    process_stored(web.services)
    victim = Tokeniser(web.services.ingress.tokeniser._key).token("nhs", "9990000001")
    family = family_id_of_token(web.services.engine, victim)
    assert family is not None

    web.person("chair-b", area="TEST-AREA-B")
    web.log_in("chair-b")
    r = web.client.get(f"/families/{family}")
    assert r.status_code == 404
    assert "Alex" not in r.text and "Example" not in r.text
    last = json.loads(list(audit_log.records())[-1].body)
    assert last["action"] == f"GET /v1/families/{family}"
    # the refusal names whose family was asked for, so IG can see the attempt; nothing shown
    assert last["outcome"].startswith("refused") and victim in last["subjects"]

    web.client.cookies.clear()
    web.person("chair-any")  # no area: every area's families
    web.log_in("chair-any")
    r = web.client.get(f"/families/{family}")
    assert r.status_code == 200 and 'id="genogram"' in r.text
    assert json.loads(list(audit_log.records())[-1].body)["outcome"] == "disclosed"
