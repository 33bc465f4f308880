"""The administrator's pages in real headless Chromium (as tests/e2e/test_browser.py drives
the chair's): log in, add an agency system and see its API key once, check the key works on
/v1, then visit every administrator page, an error summary included, each checked with
axe-core. The API runs as its own process (`hub serve`) without a broker or worker: these
pages need neither."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.adapters.kafka.embedded import free_port, stop_process
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract.examples import EXAMPLES
from hub.entrypoints.stack import child_env
from hub.settings import Settings
from tests.e2e.test_browser import PASSWORD, accessible, browser  # noqa: F401 - fixture
from tests.integration.conftest import wait_for


@pytest.fixture
def api_only(tmp_path: Path) -> Iterator[str]:
    """`hub serve` on SQLite with an administrator who can log in; yields its base URL."""
    settings = Settings(data_dir=tmp_path / "data")
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    SqlPrincipalStore(engine).add("Admin Example", "person", "admin", None)
    SqlLoginStore(engine).set_password("Admin Example", PASSWORD)
    engine.dispose()
    port = free_port()
    env = child_env(settings) | {"HUB_API_PORT": str(port), "HUB_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "api.log", "ab")  # noqa: SIM115 - closed below
    api = subprocess.Popen([sys.executable, "-m", "hub", "serve"], env=env, stdout=log,
                           stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/healthz").status_code == 200
        except httpx.TransportError:
            assert api.poll() is None, f"API exited; see {tmp_path / 'api.log'}"
            return False

    try:
        wait_for(healthy, 120, "the API to answer /healthz")
        yield base
    finally:
        stop_process(api, "api", 20)
        log.close()


def test_an_administrator_adds_an_agency_and_sees_its_key_once(
    api_only: str,
    browser: Any,  # noqa: F811 - the fixture
) -> None:
    base = api_only
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.fill("#name", "Admin Example")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}/admin/agencies")
    accessible(page)

    # A mistake first: the error summary links to the field
    page.click("button:has-text('Add agency system')")
    assert page.locator(".govuk-error-summary a[href='#reason']").count() == 1
    accessible(page)

    page.fill("#name", "TEST-POLICE-A")
    page.select_option("#type", "police")
    page.fill("#reason", "The police force joins the hub")
    page.click("button:has-text('Add agency system')")
    page.wait_for_selector("#api-key")
    key = page.locator("#api-key").inner_text().strip()
    assert key.startswith("hubk_")
    accessible(page)
    r = httpx.post(f"{base}/v1/events", json=EXAMPLES["police.incident"],
                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert r.status_code == 202, r.text

    # Shown once: neither the list nor the agency's own page shows it again
    page.click("a:has-text('I have copied it')")
    page.wait_for_url(f"{base}/admin/agencies")
    assert "TEST-POLICE-A" in page.locator("#agencies").inner_text()
    assert key not in page.content()
    page.click("#agencies a:has-text('Manage')")
    page.wait_for_url(f"{base}/admin/agencies/TEST-POLICE-A")
    assert key not in page.content()
    accessible(page)

    # Every other administrator page, reached from the menu, passes axe-core
    for label, path in (("People", "/admin/people"), ("Rules in force", "/admin/rules"),
                        ("Sharing policy", "/admin/policy")):  # fmt: skip
        page.click(f"#navigation a:has-text('{label}')")
        page.wait_for_url(f"{base}{path}")
        assert page.locator("h1").inner_text().startswith(label)
        accessible(page)
    page.goto(f"{base}/admin/people/Admin%20Example")
    accessible(page)
    page.goto(f"{base}/admin/rules?area=TEST-AREA")
    assert "Visible high risk" in page.content()
    accessible(page)


def test_a_person_with_a_temporary_password_chooses_their_own_before_any_other_page(
    api_only: str,
    browser: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    base = api_only
    temporary = "TEST-temporary-password-0001"
    engine = make_engine(Settings(data_dir=tmp_path / "data").effective_database_url)
    people = SqlPrincipalStore(engine)
    people.add("Chair Example", "person", "marac_chair", "TEST-MARAC-A", "TEST-AREA")
    SqlLoginStore(engine).set_password("Chair Example", temporary, temporary=True)
    engine.dispose()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login?next=%2Fidentity")
    page.fill("#name", "Chair Example")
    page.fill("#password", temporary)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}/account/password?next=%2Fidentity")
    assert "temporary password" in page.locator(".govuk-inset-text").inner_text()
    accessible(page)

    page.goto(f"{base}/alerts")  # no other page works yet
    page.wait_for_url(f"{base}/account/password?next=%2Falerts")

    # A mistake first: the error summary links to the field to fix
    page.fill("#current", temporary)
    page.fill("#password", "TEST a new passphrase")
    page.fill("#again", "TEST another passphrase")
    page.click("button:has-text('Save your password')")
    assert page.locator(".govuk-error-summary a[href='#again']").count() == 1
    accessible(page)

    page.fill("#current", temporary)
    page.fill("#password", "TEST a new passphrase")
    page.fill("#again", "TEST a new passphrase")
    page.click("button:has-text('Save your password')")
    page.wait_for_url(f"{base}/alerts")  # back where they were going, and every page works
    accessible(page)
