"""An agency is never told twice: after `hub replay` (hub.pipeline.replay.rebuild) the Kafka
egress of the feeds (hub.out.<agency>.v1) publishes nothing it had published, and still
publishes what changes afterwards. Real broker, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import select, update

from hub.adapters.kafka.embedded import EmbeddedBroker
from hub.adapters.sql.alerts import AlertQuery, changes_since
from hub.adapters.sql.schema import alerts
from hub.contract.feed import FeedItem, egress_topic
from hub.domain.areas import load_areas
from hub.pipeline.egress import FeedEgress
from hub.pipeline.replay import rebuild
from tests import feed_scenario as s
from tests.integration.conftest import Api, read_topic
from tests.integration.test_feed import heard, send
from tests.processing import process_stored


def test_a_replay_tells_no_agency_again_and_later_changes_are_still_told(
    any_db_api: Api, broker: EmbeddedBroker
) -> None:
    api = any_db_api
    keys = {a: api.key(a, "agency_system", kind) for a, kind in s.AGENCIES.items()}
    hearing = heard(api, keys)
    settings = api.services.settings.with_bootstrap(broker.bootstrap, embedded=True).replace(
        topic_prefix=f"t{uuid.uuid4().hex[:10]}."
    )
    egress = FeedEgress(replace(api.services, settings=settings), list(s.AGENCIES), 0.1)

    def told(agency: str) -> list[tuple[str, str]]:
        raw = read_topic(settings, settings.topic(egress_topic(agency)))
        return [(i.item_id, i.version) for i in map(FeedItem.model_validate_json, raw)]

    try:
        first = egress.publish_once()
        assert first > 0
        before = {agency: told(agency) for agency in s.AGENCIES}
        assert any(i.startswith("notice:") for items in before.values() for i, _v in items)

        rebuild(api.services.engine, load_areas())
        assert egress.publish_once() == 0
        assert {agency: told(agency) for agency in s.AGENCIES} == before

        # what changes after the replay is told, once, to its owner only
        send(api, keys, "TEST-HOUSING-A", s.action_done(f"{hearing}.2"))
        process_stored(api.services)
        assert egress.publish_once() == 1
        after = {agency: told(agency) for agency in s.AGENCIES}
        housing = after.pop("TEST-HOUSING-A")
        assert housing[: len(before["TEST-HOUSING-A"])] == before.pop("TEST-HOUSING-A")
        assert [i for i, _v in housing[len(housing) - 1 :]] == [f"action:{hearing}.2"]
        assert after == before
        assert egress.publish_once() == 0
    finally:
        egress.stop()
        egress._close()


def test_a_replay_gives_new_revisions_only_to_alerts_it_changes(any_db_api: Api) -> None:
    api = any_db_api
    keys = {a: api.key(a, "agency_system", kind) for a, kind in s.AGENCIES.items()}
    heard(api, keys)
    engine = api.services.engine
    with engine.begin() as conn:
        before = {r.alert_id: r for r in conn.execute(select(alerts))}
        # one alert as older rules worded it: the replay words it afresh, a change to tell
        stale = sorted(before)[0]
        conn.execute(update(alerts).where(alerts.c.alert_id == stale).values(reason="old words"))
    rebuild(engine, load_areas())
    with engine.connect() as conn:
        after = {r.alert_id: r for r in conn.execute(select(alerts))}
    assert set(after) == set(before)
    top = max(r.revision for r in before.values())
    for aid, row in after.items():
        old = before[aid]
        assert row.raised_at == old.raised_at
        if aid == stale:
            assert row.revision > top and row.reason == old.reason
        else:
            assert (row.revision, row.updated_at) == (old.revision, old.updated_at)
    changed, _upto = changes_since(engine, top, AlertQuery(limit=100))
    assert [a.alert_id for a in changed] == [stale]
