"""Signed checkpoints reach Kafka (`hub.audit.checkpoints`) on the real broker: in the
background as the store writes them, and again on `hub audit publish-checkpoints`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from audit.checkpoint import Checkpoint, signature_problem
from audit.publish import AUDIT_CHECKPOINTS, KafkaCheckpointPublisher
from audit.schema import create_audit_schema
from audit.store import SqlAuditStore
from hub.adapters.audit_wiring import (
    checkpoint_publisher,
    load_or_create_signer,
    signing_key_path,
)
from hub.adapters.kafka.embedded import EmbeddedBroker
from hub.adapters.sql.db import create_schema, make_engine
from hub.settings import Settings
from tests.cli import run_hub
from tests.integration.conftest import TopicTail, wait_for


def test_checkpoints_are_published_as_they_are_signed_and_again_on_demand(
    tmp_path: Path, broker: EmbeddedBroker
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        topic_prefix=f"t{os.getpid()}{tmp_path.name[-6:]}.",
        audit_checkpoint_every=2,
    ).with_bootstrap(broker.bootstrap, embedded=True)
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    create_audit_schema(engine)
    signer = load_or_create_signer(signing_key_path(settings))
    publisher = checkpoint_publisher(settings)
    assert isinstance(publisher, KafkaCheckpointPublisher)
    store = SqlAuditStore(engine, signer, settings.audit_checkpoint_every, publisher)
    store.ensure_head()
    for i in range(5):
        store.append({"action": "GET /v1/alerts", "by": "TEST-MARAC-CHAIR", "n": i})
    store.checkpoint()  # on demand, at 5
    publisher.close()  # sends what is queued, then stops
    stored = store.checkpoints()
    assert [c.tree_size for c in stored] == [2, 4, 5]

    topic = TopicTail(broker.bootstrap, settings.topic(AUDIT_CHECKPOINTS))
    try:
        records = wait_for(lambda: topic.at_least(3), 60, "the checkpoints on Kafka")
        assert [r.key for r in records] == [b"2", b"4", b"5"]
        published = [Checkpoint.from_dict(json.loads(r.value)) for r in records]
        assert published == stored
        assert all(signature_problem(c, signer.public_key) is None for c in published)

        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env |= {
            "HUB_DATA_DIR": str(settings.data_dir),
            "HUB_KAFKA_BOOTSTRAP": broker.bootstrap,
            "HUB_EMBEDDED_BROKER": "1",
            "HUB_TOPIC_PREFIX": settings.topic_prefix,
        }
        run = run_hub("audit", "publish-checkpoints", env=env)
        assert run.returncode == 0, run.stderr
        assert "published 3 checkpoints" in run.stdout
        records = wait_for(lambda: topic.at_least(6), 60, "the checkpoints published again")
        assert [r.key for r in records[3:]] == [b"2", b"4", b"5"]
    finally:
        topic.close()
        engine.dispose()
