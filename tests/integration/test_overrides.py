"""Sch 1 para 18 overrides through the API: they travel in request headers (never in the query
string, so never in access logs), need a justification in words, and are listed for IG review.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from hub.adapters.kafka.embedded import free_port, stop_process
from hub.bootstrap import build_services
from hub.contract.examples import EXAMPLES
from hub.entrypoints.stack import child_env
from hub.settings import Settings
from tests.integration.conftest import Api, wait_for
from tests.integration.test_disclosure_api import override, read, send, victim_token

REASON = "consent_cannot_reasonably_be_obtained"
WHY = "TEST: victim cannot be reached before the meeting."


def on_unrecorded_consent(api: Api) -> str:
    """A referral resting on a consent the hub has no record of: shared only by override."""
    referral = copy.deepcopy(EXAMPLES["referral.made"]) | {
        "lawfulbasis": "ukgdpr-6-1-a", "consentref": "TEST-NEVER-RECORDED",
    }  # fmt: skip
    send(api, "TEST-IDVA-A", "idva", referral)
    return victim_token(api)


@pytest.mark.parametrize(
    "justification",
    [".........." * 3, "x" * 40, "asked?", "1234567890 1234567890", "urgent!! ok ........."],
)
def test_an_override_without_a_justification_in_words_is_refused(
    api: Api, justification: str
) -> None:
    token = on_unrecorded_consent(api)
    chair = api.key("Chair Example", "person", "marac_chair")
    r = api.client.get(
        f"/v1/subjects/{token}/events", headers=chair | override(REASON, justification)
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["override", "justification"]
    assert "IG officer reviews" in error["msg"] and "3 words" in error["msg"]
    assert all(json.loads(x.body)["overrides"] == [] for x in api.services.audit.records())


def test_an_override_in_words_shares_and_is_listed_for_ig_review(api: Api) -> None:
    token = on_unrecorded_consent(api)
    chair = api.key("Chair Example", "person", "marac_chair")
    why = "TEST: l'Idva ne peut joindre la victime — hospitalisée avant la réunion"
    shown = read(api, chair, token, override_reason=REASON, justification=why)
    assert [e["type"] for e in shown["events"]] == ["referral.made"]
    ig = api.key("IG Example", "person", "ig_officer")
    [listed] = api.client.get("/v1/ig/overrides", headers=ig).json()
    assert listed["overrides"][0]["justification"] == why  # percent-decoded UTF-8
    assert listed["overrides"][0]["reason"] == REASON


def test_a_header_that_is_not_percent_encoded_utf8_is_refused(api: Api) -> None:
    token = on_unrecorded_consent(api)
    chair = api.key("Chair Example", "person", "marac_chair")
    headers = chair | {"Hub-Override-Reason": REASON, "Hub-Override-Justification": "caf%E9 " * 9}
    r = api.client.get(f"/v1/subjects/{token}/events", headers=headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Hub-Override-Justification"]


def test_the_old_query_parameters_are_refused_and_say_where_they_go(api: Api) -> None:
    token = on_unrecorded_consent(api)
    chair = api.key("Chair Example", "person", "marac_chair")
    r = api.client.get(
        f"/v1/subjects/{token}/events", headers=chair,
        params={"override_reason": REASON, "justification": WHY},
    )  # fmt: skip
    assert r.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in r.json()["detail"]}
    assert set(errors) == {("query", "override_reason"), ("query", "justification")}
    assert "Hub-Override-Reason header" in errors[("query", "override_reason")]
    assert "Hub-Override-Justification header" in errors[("query", "justification")]
    assert WHY not in r.text
    assert list(api.services.audit.records()) == []  # refused before anything was read


def test_the_access_log_never_shows_an_override(tmp_path: Path) -> None:
    """`hub serve` as run in production, its access log at INFO: neither the old query
    parameters (refused) nor anything else in a query string reach the log."""
    settings = Settings(data_dir=tmp_path / "data")
    services = build_services(settings)
    _p, key = services.principals.add("Chair Example", "person", "marac_chair", None)
    services.engine.dispose()
    port = free_port()
    env = child_env(settings) | {"HUB_API_PORT": str(port), "HUB_LOG_LEVEL": "INFO"}
    env.pop("HUB_KAFKA_BOOTSTRAP", None)  # the API alone: no relay, no broker
    log_path = tmp_path / "api.log"
    with log_path.open("ab") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                wait_for(lambda: _up(http, api), 30, "the API to answer /healthz")
                token = f"st_{'a' * 32}"
                auth = {"Authorization": f"Bearer {key}"}
                old = http.get(
                    f"/v1/subjects/{token}/events", headers=auth,
                    params={"override_reason": REASON, "justification": WHY},
                )  # fmt: skip
                assert old.status_code == 422
                new = http.get(f"/v1/subjects/{token}/events", headers=auth | override(REASON, WHY))
                assert new.status_code == 200, new.text
        finally:
            stop_process(api, "api", 20)
    text = log_path.read_text("utf-8")
    lines = [ln for ln in text.splitlines() if f"/v1/subjects/{token}/events" in ln]
    assert len(lines) == 2, text  # both requests were logged …
    for secret in (WHY, quote(WHY), quote(WHY, safe=""), quote_plus(WHY), REASON):
        assert secret not in text  # … without the override


def _up(http: httpx.Client, process: subprocess.Popen[bytes]) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        assert process.poll() is None, "the API exited"
        return False
