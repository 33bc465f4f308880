"""Whole-log verification: chain, Merkle roots at checkpoints, signatures; the first bad thing
in log order is named, and checkpoints catch what the chain and head alone cannot."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import islice

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.chain import ChainedRecord
from audit.checkpoint import Checkpoint
from audit.merkle import EMPTY_ROOT
from audit.segments import check_segment, segment_bounds
from audit.verify import combine, verify_log
from tests.audit_builders import HUB_KEY, OTHER_KEY, SIGNED_AT, build_log, head_of, rechain

KEY = HUB_KEY.public_key


def batched(records: list[ChainedRecord], size: int = 3) -> list[Sequence[ChainedRecord]]:
    it = iter(records)
    return list(iter(lambda: list(islice(it, size)), []))


def edit_body(records: list[ChainedRecord], seq: int) -> list[ChainedRecord]:
    out = list(records)
    r = out[seq - 1]
    out[seq - 1] = r._replace(body=r.body.replace("TEST-MARAC-CHAIR", "TEST-NOBODY"))
    return out


def test_an_untouched_log_verifies_with_every_checkpoint() -> None:
    records, checkpoints = build_log(10)
    result = verify_log(batched(records), checkpoints, KEY, head_of(records))
    assert result.ok, result.problem
    assert (result.records, result.checkpoints) == (10, 2)


@given(n=st.integers(0, 40), every=st.integers(1, 9), size=st.integers(1, 50))
def test_batch_size_never_changes_the_verdict(n: int, every: int, size: int) -> None:
    records, checkpoints = build_log(n, every)
    result = verify_log(batched(records, size), checkpoints, KEY, head_of(records))
    assert result.ok and result.checkpoints == n // every
    if n:
        k = max(1, n // 2)  # rewrite record k and recompute the chain from it on
        tampered = rechain(edit_body(records, k), k - 1)
        result = verify_log(batched(tampered, size), checkpoints, KEY, head_of(tampered))
        covered = n // every * every >= k  # a checkpoint at or after record k exists
        assert result.ok != covered


def test_an_empty_log_and_its_checkpoint_at_size_zero() -> None:
    cp = HUB_KEY.sign(0, EMPTY_ROOT, "0" * 64, SIGNED_AT)
    assert verify_log([], [cp], KEY, head_of([])).checkpoints == 1
    _records, checkpoints = build_log(4)
    result = verify_log([], checkpoints, KEY, head_of([]))
    assert not result.ok and result.bad_checkpoint == 4


def test_records_rewritten_with_a_recomputed_chain_are_caught_by_the_checkpoint() -> None:
    records, checkpoints = build_log(10)
    rewritten = rechain(edit_body(records, 6), 5)  # every link after record 5 recomputed
    assert verify_log(batched(rewritten), [], KEY, head_of(rewritten)).ok  # the chain holds
    result = verify_log(batched(rewritten), checkpoints, KEY, head_of(rewritten))
    assert not result.ok
    assert result.bad_checkpoint == 8
    assert result.problem is not None and "records 5 to 8 were rewritten" in result.problem
    assert result.checkpoints == 1 and result.records == 8


def test_a_doctored_head_cannot_hide_a_removed_tail_a_checkpoint_covers() -> None:
    records, checkpoints = build_log(10)
    kept = records[:6]
    result = verify_log(batched(kept), checkpoints, KEY, head_of(kept))
    assert not result.ok
    assert (result.bad_seq, result.bad_checkpoint) == (7, 8)
    assert result.problem is not None and "records after 6 were removed" in result.problem


def test_the_tail_after_the_newest_checkpoint_is_what_a_doctored_head_can_hide() -> None:
    """The documented limit: the checkpoint interval bounds what can vanish unseen."""
    records, checkpoints = build_log(10)
    kept = records[:9]
    assert verify_log(batched(kept), checkpoints, KEY, head_of(kept)).ok
    assert not verify_log(batched(kept), checkpoints, KEY, head_of(records)).ok


def test_checkpoints_held_outside_catch_a_rewritten_checkpoint_table() -> None:
    records, checkpoints = build_log(10)
    kept, kept_checkpoints = records[:6], checkpoints[:1]  # tail, checkpoint 8 and head gone
    assert verify_log(batched(kept), kept_checkpoints, KEY, head_of(kept)).ok
    result = verify_log(batched(kept), [*kept_checkpoints, *checkpoints], KEY, head_of(kept))
    assert not result.ok and result.bad_checkpoint == 8


def edited(cp: Checkpoint, **changes: object) -> Checkpoint:
    return dataclasses.replace(cp, **changes)  # type: ignore[arg-type]


def test_each_kind_of_bad_checkpoint_is_named() -> None:
    records, (four, eight) = build_log(10)
    cases = {
        "does not match the Merkle root": edited(four, root_hash="00" * 32),
        "chain head that is not the hash of record 4": edited(four, chain_head=records[4].hash),
        "signature does not verify": edited(four, time="2026-03-01T10:00:01+00:00"),
        "another key": OTHER_KEY.sign(4, bytes.fromhex(four.root_hash), four.chain_head, SIGNED_AT),
    }
    for message, bad in cases.items():
        result = verify_log(batched(records), [bad, eight], KEY, head_of(records))
        assert not result.ok and result.bad_checkpoint == 4, message
        assert result.problem is not None and message in result.problem
        assert result.checkpoints == 0 and result.bad_seq is None


def test_without_a_key_roots_are_checked_but_not_signatures() -> None:
    records, (four, eight) = build_log(10)
    resigned_time = edited(four, time="2026-03-01T10:00:01+00:00")
    assert verify_log(batched(records), [resigned_time, eight], None, head_of(records)).ok
    wrong_root = edited(four, root_hash="00" * 32)
    assert not verify_log(batched(records), [wrong_root, eight], None, head_of(records)).ok


def test_the_first_problem_in_log_order_is_reported() -> None:
    records, (four, eight) = build_log(10)
    bad_four = edited(four, signature="00" * 64)
    result = verify_log(batched(edit_body(records, 6)), [bad_four, eight], KEY, head_of(records))
    assert result.bad_checkpoint == 4 and result.bad_seq is None
    result = verify_log(batched(edit_body(records, 3)), [bad_four, eight], KEY, head_of(records))
    assert (result.bad_seq, result.bad_record_id, result.bad_checkpoint) == (3, "rec-3", None)
    assert result.problem is not None and "edited" in result.problem


# --- segments: any width, in any process, combine to the single-pass verdict ---------------


def tampered_log(
    kind: str, n: int, every: int, k: int
) -> tuple[list[ChainedRecord], list[Checkpoint], tuple[int, str]]:
    """A log of n records, checkpoints every `every`, tampered at record k (1-based)."""
    records, checkpoints = build_log(n, every)
    head = head_of(records)
    if kind == "edited":
        records = edit_body(records, k)
    elif kind == "rewritten":
        records = rechain(edit_body(records, k), k - 1)
        head = head_of(records)
    elif kind == "removed":
        del records[k - 1]
    elif kind == "swapped" and k < n:
        a, b = records[k - 1], records[k]
        records[k - 1], records[k] = b._replace(seq=a.seq), a._replace(seq=b.seq)
    elif kind == "inserted":
        forged = rechain([*records[: k - 1], records[0]._replace(record_id="forged")])[-1]
        later = [r._replace(seq=r.seq + 1) for r in records[k - 1 :]]
        records = [*records[: k - 1], forged, *later]
    elif kind == "truncated, head doctored":
        records = records[: k - 1]
        head = head_of(records)
    elif kind == "checkpoint edited" and checkpoints:
        checkpoints[-1] = edited(checkpoints[-1], time="2026-03-01T10:00:01+00:00")
    return records, checkpoints, head


KINDS = [
    "untouched",
    "edited",
    "rewritten",
    "removed",
    "swapped",
    "inserted",
    "truncated, head doctored",
    "checkpoint edited",
]


@settings(max_examples=400)
@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 40),
    every=st.integers(1, 9),
    bits=st.integers(0, 4),
    size=st.integers(1, 12),
    data=st.data(),
)
def test_segments_of_any_width_combine_to_the_single_pass_verdict(
    kind: str, n: int, every: int, bits: int, size: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, n), label="tampered record")
    records, checkpoints, head = tampered_log(kind, n, every, k)
    single = verify_log([records], checkpoints, KEY, head, bits=30)
    assert verify_log(batched(records, size), checkpoints, KEY, head, bits=bits) == single

    # As the store's parallel path reads a database: seqs unique and sorted, none past the
    # head, each segment by seq range on its own, the reports combined in order.
    stored = sorted({r.seq: r for r in records if r.seq <= head[0]}.values())
    sizes = [c.tree_size for c in checkpoints]
    reports = [
        check_segment([[r for r in stored if (lo == 0 or r.seq > lo) and r.seq <= hi]], lo, sizes)
        for lo, hi in segment_bounds(head[0], bits)
    ]
    expected = verify_log([stored], checkpoints, KEY, head, bits=30)
    assert combine(reports, checkpoints, KEY, head, bits) == expected
