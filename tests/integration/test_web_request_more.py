""" "Request more" from the family page: an item the reader sees as involvement only can be
asked about from the page (reason required, CSRF, same service and audit as POST /v1/requests);
once the holding agency grants it, the item shows on the page. A Marac chair may ask too, but
never answer their own request."""

from __future__ import annotations

import json
import re

from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.memory import InMemoryAuditLog
from hub.adapters.sql.families import family_id_of_token
from hub.adapters.sql.logins import SqlLoginStore
from hub.contract.examples import EXAMPLES
from tests.integration import test_web_security
from tests.integration.test_web_security import PASSWORD, Web
from tests.processing import process_stored

# the same logged-out web client and audit log as the security tests (pytest fixtures)
audit_log, web = test_web_security.audit_log, test_web_security.web

REQUEST_LINK = re.compile(r'href="(/families/[^"]+/request/([0-9a-f-]{36}))"')


def incident_family(web: Web) -> tuple[str, str]:
    """A police incident, linked and projected: (family id, victim token)."""
    police = web.services.principals.add(
        "TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A"
    )
    r = web.client.post("/v1/events", json=EXAMPLES["police.incident"],
                        headers={"Authorization": f"Bearer {police[1]}"})  # fmt: skip
    assert r.status_code == 202, r.text
    process_stored(web.services)
    victim = Tokeniser(web.services.ingress.tokeniser._key).token("nhs", "9990000001")
    family = family_id_of_token(web.services.engine, victim)
    assert family is not None
    return family, victim


def test_a_practitioner_asks_for_more_from_the_page_and_sees_it_once_granted(
    web: Web, audit_log: InMemoryAuditLog
) -> None:
    family, victim = incident_family(web)
    web.services.principals.add("GP Example", "person", "gp", "TEST-GP-A")
    SqlLoginStore(web.services.engine).set_password("GP Example", PASSWORD)
    web.log_in("GP Example")
    page = web.client.get(f"/families/{family}")
    assert page.status_code == 200
    [(link, item)] = REQUEST_LINK.findall(page.text)
    assert "Police incident" not in page.text.split('id="timeline-table"')[1].split("</table>")[0]
    assert "Neighbour called 999" not in page.text  # involvement only: no content

    form = web.client.get(link)
    assert form.status_code == 200 and 'name="reason"' in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    assert web.client.post(link, data={"reason": "need it"}).status_code == 403  # no CSRF
    short = web.client.post(link, data={"csrf_token": csrf.group(1), "reason": "need it"})
    assert short.status_code == 400 and "at least 10 characters" in short.text

    why = "Patient disclosed fear at appointment; need incident context."
    sent = web.client.post(
        link, data={"csrf_token": csrf.group(1), "reason": why}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/families/{family}?requested=TEST-POLICE-A#involvement"
    asked = json.loads(list(audit_log.records())[-1].body)
    assert asked["action"] == "access requested" and asked["subjects"] == [victim]
    assert "Your request was sent to TEST-POLICE-A" in web.client.get(sent.headers["location"]).text

    officer = web.services.principals.add("PC Example", "person", "police", "TEST-POLICE-A")[1]
    pc = {"Authorization": f"Bearer {officer}"}
    [request] = web.client.get("/v1/requests", headers=pc).json()
    assert request["items"] == [item] and request["reason"] == why
    decision = {"grant": True, "reason": "Need to know established."}
    r = web.client.post(f"/v1/requests/{request['request_id']}/decision", json=decision, headers=pc)
    assert r.status_code == 200, r.text

    after = web.client.get(f"/families/{family}")
    assert REQUEST_LINK.findall(after.text) == []  # no longer involvement only
    table = after.text.split('id="timeline-table"')[1].split("</table>")[0]
    assert "Police incident" in table and "TEST-POLICE-A" in table  # now on the timeline


def test_a_chair_may_ask_but_not_answer_their_own_request(web: Web) -> None:
    _family, victim = incident_family(web)
    [item] = [e.hub_id for _, e in web.services.ingress.store.read(0, 10)]
    chair = {"Authorization": "Bearer " + web.services.principals.add(
        "Chair Example", "person", "marac_chair", None)[1]}  # fmt: skip
    ask = {"subject": victim, "items": [item], "purpose": "marac_case_preparation",
           "reason": "The hearing needs the incident's circumstances."}  # fmt: skip
    r = web.client.post("/v1/requests", json=ask, headers=chair)
    assert r.status_code == 201, r.text
    own = web.client.post(
        f"/v1/requests/{r.json()['request_id']}/decision",
        json={"grant": True, "reason": "Granting myself."}, headers=chair,
    )  # fmt: skip
    assert own.status_code == 403 and "you asked for this" in own.text

    other_area = {"Authorization": "Bearer " + web.services.principals.add(
        "Chair Elsewhere", "person", "marac_chair", None, "TEST-AREA-B")[1]}  # fmt: skip
    assert web.client.post("/v1/requests", json=ask, headers=other_area).status_code == 403
