"""A poison event through the real broker and worker: the worker applies every other event,
dead-letters it, `hub failed list` shows it, `hub replay` completes with the same read models
and says so, and `hub failed retry` after the fix applies it (issue 12, defect 1)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hub.adapters.kafka import topics
from hub.adapters.sql import failed
from hub.adapters.sql.schema import events, processed_events
from hub.bootstrap import build_services
from hub.domain.calendar import Calendar
from hub.entrypoints.stack import child_env
from hub.pipeline.projector import CONSUMER as PROJECTOR
from hub.pipeline.projector import family_state_of_token
from hub.pipeline.replay import state_digest
from tests import builders as b
from tests.cli import run_hub
from tests.integration.conftest import RunningHub, read_topic, wait_for
from tests.unit.canonical import canonical_event


def test_a_poison_event_is_dead_lettered_listed_replayed_around_and_retried(
    running_hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, settings = running_hub, running_hub.settings
    services = build_services(settings)
    key = services.principals.add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")[1]
    police = {"Authorization": f"Bearer {key}"}
    chair_key = services.principals.add("Chair Example", "person", "marac_chair", None)[1]
    chair = {"Authorization": f"Bearer {chair_key}"}

    def attention(family_id: str) -> bool:
        r = hub.http.get(f"/v1/families/{family_id}", headers=chair)
        assert r.status_code == 200, r.text
        return bool(r.json()["needs_attention"])

    def post(event: dict[str, object]) -> str:
        r = hub.http.post("/v1/events", json=event, headers=police)
        assert r.status_code == 202, r.text
        return str(r.json()["hub_id"])

    def all_projected() -> bool:
        with services.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
            done = conn.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.consumer == PROJECTOR)
            ).scalar_one()
        return bool(stored == done)

    victim, other = b.victim("9990000701"), b.victim("9990000702", "Jo Example")
    first = post(b.incident([victim, b.perpetrator("TEST-PNC-71")], time="2026-03-02T10:00:00Z"))
    token = services.ingress.tokeniser.token("nhs", "9990000701")
    # stored before ingress refused such times: straight into the store, as old data would be
    poison = canonical_event(
        "TEST-POISON-1", victim=token, perpetrators=(), time=datetime(1, 1, 1, tzinfo=UTC)
    )
    content = hashlib.sha256(poison.to_json().encode()).hexdigest()
    services.ingress.store.append(poison, content, settings.topic(topics.EVENTS))
    after = post(b.incident([victim, b.perpetrator("TEST-PNC-71")], time="2026-03-09T10:00:00Z"))
    elsewhere = post(b.incident([other, b.perpetrator("TEST-PNC-72")]))
    wait_for(all_projected, 90, "every event handled by the worker")

    family = family_state_of_token(services.engine, token)
    assert family is not None
    assert {e["hub_id"] for e in family["timeline"]} == {first, after}  # the rest applied
    other_token = services.ingress.tokeniser.token("nhs", "9990000702")
    assert elsewhere in {
        e["hub_id"] for e in family_state_of_token(services.engine, other_token)["timeline"]
    }

    deads = [json.loads(v) for v in read_topic(settings, settings.topic(topics.EVENTS_DEADLETTER))]
    assert len(deads) == 1, deads
    [dead] = deads
    assert dead == {
        "hub_id": poison.hub_id, "family_id": family["family_id"],
        "error_type": "OverflowError", "reason": "date value out of range",
    }  # fmt: skip

    assert attention(family["family_id"])
    assert not attention(family_state_of_token(services.engine, other_token)["family_id"])

    env = child_env(settings)
    listed = run_hub("failed", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 2, listed.stdout
    [row] = listed.stdout.splitlines()[1:]
    assert row.startswith(f"{poison.hub_id}\t{family['family_id']}\t") and "OverflowError" in row
    assert "Alex" not in listed.stdout and token not in listed.stdout  # ids only

    live = state_digest(services.engine)
    replay = run_hub("replay", env=env)
    assert replay.returncode != 0 and "unchanged" in replay.stdout, replay.stdout
    assert replay.stderr.strip().count("\n") == 0 and "hub failed list" in replay.stderr
    assert state_digest(services.engine) == live

    original = Calendar.local_date  # the fix: days before the time zone database begins
    monkeypatch.setattr(
        Calendar, "local_date", lambda self, t: t.date() if t.year < 1900 else original(self, t)
    )
    retried = run_hub("failed", "retry", "--all", env=env)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"{poison.hub_id}: applied; resolved" in retried.stdout
    family = family_state_of_token(services.engine, token)
    assert {e["hub_id"] for e in family["timeline"]} == {first, poison.hub_id, after}
    # (the API process has not the fix, so it is asked of the read model here)
    assert not failed.needs_attention(services.engine, family["family_id"])
    assert run_hub("failed", "list", env=env).stdout.strip() == "no events set apart"
