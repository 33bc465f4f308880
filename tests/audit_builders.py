"""In-memory audit logs for the audit tests: chained records and the checkpoints a store with
the same interval would have signed."""

from __future__ import annotations

from datetime import UTC, datetime

from audit.chain import GENESIS_HASH, ChainedRecord, canonical_json, chain_next
from audit.checkpoint import Checkpoint, CheckpointSigner
from audit.merkle import CompactRange

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
HUB_KEY = CheckpointSigner.from_seed(b"TEST-HUB-AUDIT-KEY-000000000000!")
OTHER_KEY = CheckpointSigner.from_seed(b"TEST-SOMEONE-ELSE-000000000000!!")


def disclosure(i: int) -> str:
    return canonical_json(
        {"action": "GET /v1/alerts", "by": "TEST-MARAC-CHAIR", "victim": "st_testalex", "n": i}
    )


def rechain(records: list[ChainedRecord], start: int = 0) -> list[ChainedRecord]:
    """Recompute every link from index start on, as someone rewriting the log would."""
    out = list(records[:start])
    seq, prev = (out[-1].seq, out[-1].hash) if out else (0, GENESIS_HASH)
    for r in records[start:]:
        out.append(chain_next(seq, prev, r.record_id, r.body))
        seq, prev = out[-1].seq, out[-1].hash
    return out


def build_log(
    n: int, every: int = 4, signer: CheckpointSigner = HUB_KEY
) -> tuple[list[ChainedRecord], list[Checkpoint]]:
    unchained = [ChainedRecord(0, f"rec-{i}", disclosure(i), "", "") for i in range(1, n + 1)]
    records = rechain(unchained)
    return records, checkpoints_for(records, every, signer)


def checkpoints_for(
    records: list[ChainedRecord], every: int, signer: CheckpointSigner = HUB_KEY
) -> list[Checkpoint]:
    tree, checkpoints = CompactRange(), []
    for r in records:
        tree.append(bytes.fromhex(r.hash))
        if r.seq % every == 0:
            checkpoints.append(signer.sign(r.seq, tree.root(), r.hash, SIGNED_AT))
    return checkpoints


def head_of(records: list[ChainedRecord]) -> tuple[int, str]:
    return (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)
