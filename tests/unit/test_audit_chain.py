"""The audit hash chain: every kind of tampering is caught, naming the first record it broke."""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit import merkle
from audit.chain import (
    GENESIS_HASH,
    ChainedRecord,
    ChainWalker,
    canonical_json,
    chain_next,
    entry_bytes,
    link_hash,
    verify_chain,
)


def build_chain(n: int) -> list[ChainedRecord]:
    records: list[ChainedRecord] = []
    seq, prev = 0, GENESIS_HASH
    for i in range(1, n + 1):
        body = canonical_json({"disclosure": i, "to": "TEST-IDVA-A", "victim": "st_testalex"})
        records.append(chain_next(seq, prev, f"rec-{i}", body))
        seq, prev = records[-1].seq, records[-1].hash
    return records


def head_of(records: list[ChainedRecord]) -> tuple[int, str]:
    return (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)


def flip(hex_digest: str) -> str:
    return ("1" if hex_digest[0] == "0" else "0") + hex_digest[1:]


def test_chain_links_each_record_to_the_one_before() -> None:
    records = build_chain(3)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS_HASH
    assert records[1].prev_hash == records[0].hash
    assert records[2].hash == link_hash(records[1].hash, 3, records[2].record_id, records[2].body)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_untouched_chain_verifies_with_and_without_head(n: int) -> None:
    records = build_chain(n)
    for head in (None, head_of(records)):
        result = verify_chain(records, head)
        assert result.ok, result.problem
        assert result.records == n
        assert result.bad_seq is None


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": "Ä"}) == canonical_json({"a": "Ä", "b": 1})


# --- adversarial cases on a chain of five records ----------------------------------------------


def edited_body(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    rs[2] = rs[2]._replace(body=rs[2].body.replace("TEST-IDVA-A", "TEST-AE-A"))
    return rs


def edited_body_rehashed(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    body = rs[2].body.replace("TEST-IDVA-A", "TEST-AE-A")
    rs[2] = rs[2]._replace(
        body=body, hash=link_hash(rs[2].prev_hash, rs[2].seq, rs[2].record_id, body)
    )
    return rs


def edited_hash(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    rs[2] = rs[2]._replace(hash=flip(rs[2].hash))
    return rs


def edited_prev_hash(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    rs[2] = rs[2]._replace(prev_hash=flip(rs[2].prev_hash))
    return rs


def removed_middle(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    del rs[2]
    return rs


def removed_middle_renumbered(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    del rs[2]
    return rs[:2] + [r._replace(seq=r.seq - 1) for r in rs[2:]]


def reordered(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    rs[2], rs[3] = rs[3], rs[2]
    return rs


def reordered_renumbered(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    rs[2], rs[3] = rs[3]._replace(seq=3), rs[2]._replace(seq=4)
    return rs


def inserted(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    forged = chain_next(rs[1].seq, rs[1].hash, "forged", canonical_json({"forged": True}))
    return [*rs[:2], forged, *rs[2:]]


def inserted_renumbered(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    forged = chain_next(rs[1].seq, rs[1].hash, "forged", canonical_json({"forged": True}))
    return [*rs[:2], forged, *(r._replace(seq=r.seq + 1) for r in rs[2:])]


def duplicated(rs: list[ChainedRecord]) -> list[ChainedRecord]:
    return [*rs[:3], rs[2], *rs[3:]]


TAMPERING = {
    # name: (tamper, seq named, record id named)
    "edited body": (edited_body, 3, "rec-3"),
    "edited body with its hash recomputed": (edited_body_rehashed, 4, "rec-4"),
    "edited hash": (edited_hash, 3, "rec-3"),
    "edited prev_hash": (edited_prev_hash, 3, "rec-3"),
    "removed middle record": (removed_middle, 4, "rec-4"),
    "removed middle record, later ones renumbered": (removed_middle_renumbered, 3, "rec-4"),
    "reordered records": (reordered, 4, "rec-4"),
    "reordered records, seqs swapped back": (reordered_renumbered, 3, "rec-4"),
    "inserted record": (inserted, 3, "rec-3"),
    "inserted record, later ones renumbered": (inserted_renumbered, 4, "rec-3"),
    "duplicated record": (duplicated, 3, "rec-3"),
}


@pytest.mark.parametrize(("tamper", "seq", "record_id"), TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_is_detected_at_the_first_broken_record(
    tamper: object, seq: int, record_id: str
) -> None:
    original = build_chain(5)
    tampered = tamper(list(original))  # type: ignore[operator]
    result = verify_chain(tampered)
    assert not result.ok
    assert (result.bad_seq, result.bad_record_id) == (seq, record_id)
    assert result.problem and f"record {seq}" in result.problem


def test_edited_body_problem_says_contents_were_edited() -> None:
    result = verify_chain(edited_body(build_chain(5)))
    assert result.problem is not None and "edited" in result.problem
    assert result.records == 2  # the records before the edit are vouched for


def test_removed_tail_passes_the_links_but_not_the_head() -> None:
    records = build_chain(5)
    truncated = records[:4]
    assert verify_chain(truncated).ok  # links alone cannot show a missing tail
    result = verify_chain(truncated, head_of(records))
    assert not result.ok
    assert result.bad_seq == 5
    assert result.problem is not None and "removed" in result.problem


def test_whole_chain_removed_is_caught_by_the_head() -> None:
    records = build_chain(3)
    result = verify_chain([], head_of(records))
    assert not result.ok
    assert result.bad_seq == 1


def test_altered_head_is_detected() -> None:
    records = build_chain(3)
    assert not verify_chain(records, (3, flip(records[-1].hash))).ok
    assert not verify_chain(records, (4, records[-1].hash)).ok


# --- property: any single edit is caught at the edited record ---------------------------------


EDITS = ("body", "hash", "prev_hash")


@given(
    n=st.integers(1, 30),
    data=st.data(),
    edit=st.sampled_from(EDITS),
    extra=st.text(min_size=1, max_size=5),
    with_head=st.booleans(),
)
def test_any_single_record_edit_is_caught_at_that_record(
    n: int, data: st.DataObject, edit: str, extra: str, with_head: bool
) -> None:
    records = build_chain(n)
    head = head_of(records) if with_head else None
    i = data.draw(st.integers(0, n - 1), label="edited index")
    r = records[i]
    if edit == "body":
        records[i] = r._replace(body=r.body + extra)
    else:
        records[i] = r._replace(**{edit: flip(getattr(r, edit))})
    result = verify_chain(records, head)
    assert not result.ok
    assert result.bad_seq == r.seq
    assert result.bad_record_id == r.record_id
    assert result.records == i


@given(n=st.integers(1, 30), data=st.data())
def test_any_truncation_is_caught_when_the_head_is_known(n: int, data: st.DataObject) -> None:
    records = build_chain(n)
    keep = data.draw(st.integers(0, n - 1), label="records kept")
    result = verify_chain(records[:keep], head_of(records))
    assert not result.ok
    assert result.bad_seq == keep + 1


# --- the hash is the record's RFC 6962 leaf hash; batches do not change the verdict --------


def test_each_hash_is_the_rfc6962_leaf_hash_of_the_record_entry() -> None:
    first = build_chain(1)[0]
    entry = f"{GENESIS_HASH}\n1\nrec-1\n{first.body}".encode()
    assert entry_bytes(first.prev_hash, first.seq, first.record_id, first.body) == entry
    assert first.hash == hashlib.sha256(b"\x00" + entry).hexdigest()
    assert bytes.fromhex(first.hash) == merkle.leaf_hash(entry)


def test_a_record_id_may_not_contain_the_entry_separator() -> None:
    with pytest.raises(ValueError, match="newline"):
        chain_next(0, GENESIS_HASH, "rec\n1", canonical_json({}))


@given(
    n=st.integers(5, 40),
    tamper=st.sampled_from(sorted(TAMPERING)),
    cuts=st.lists(st.integers(1, 40), max_size=5),
)
def test_batch_boundaries_do_not_change_the_first_break(
    n: int, tamper: str, cuts: list[int]
) -> None:
    records = TAMPERING[tamper][0](build_chain(n))  # type: ignore[operator]
    expected = verify_chain(records)
    walker, leaves, broken = ChainWalker(), [], None
    bounds = sorted({0, len(records), *(c for c in cuts if c < len(records))})
    for lo, hi in pairwise(bounds):
        digests, broken = walker.check(records[lo:hi])
        leaves += digests
        if broken:
            break
    assert broken is not None and not expected.ok
    assert (broken.seq, broken.record_id, broken.problem) == (
        expected.bad_seq,
        expected.bad_record_id,
        expected.problem,
    )
    assert [d.hex() for d in leaves] == [r.hash for r in records[: len(leaves)]]
    assert len(leaves) == expected.records
