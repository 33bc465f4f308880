"""Subject tokens: the same person meets on one token; nothing about them can be read from it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.adapters.crypto.keys import load_or_create_key
from hub.adapters.crypto.tokens import Tokeniser
from hub.contract import Identifiers, Role, Subject

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NHS = "9990000001"
PNC = "TEST00000002"
LA = "TEST-LA-77"
REF = "TEST-CASE-5"

nhs_numbers = st.from_regex(r"\A999\d{7}\Z")
pnc_ids = st.from_regex(r"\ATEST\d{4,8}\Z")
agency_refs = st.from_regex(r"\A[A-Z0-9:-]{1,12}\Z")


def ids(**given_ids: str) -> Identifiers:
    return Identifiers(**given_ids)


@pytest.fixture
def tokeniser() -> Tokeniser:
    return Tokeniser(KEY)


@given(nhs=nhs_numbers)
def test_same_identifier_gives_same_token_across_instances(nhs: str) -> None:
    a = Tokeniser(KEY).subject_token(ids(nhs_number=nhs), "TEST-POLICE-A")
    b = Tokeniser(KEY).subject_token(ids(nhs_number=nhs), "TEST-AE-A")
    assert a == b


@given(first=nhs_numbers, second=nhs_numbers)
def test_different_people_get_different_tokens(first: str, second: str) -> None:
    t = Tokeniser(KEY)
    same = t.subject_token(ids(nhs_number=first), "A") == t.subject_token(
        ids(nhs_number=second), "A"
    )
    assert same == (first == second)


def test_different_key_gives_different_token() -> None:
    assert Tokeniser(KEY).subject_token(ids(nhs_number=NHS), "A") != Tokeniser(
        OTHER_KEY
    ).subject_token(ids(nhs_number=NHS), "A")


@pytest.mark.parametrize(
    ("everything_from", "strongest"),
    [
        ({"nhs_number": NHS, "pnc_id": PNC, "local_authority_id": LA, "agency_ref": REF}, "nhs"),
        ({"pnc_id": PNC, "local_authority_id": LA, "agency_ref": REF}, "pnc"),
        ({"local_authority_id": LA, "agency_ref": REF}, "la"),
        ({"agency_ref": REF}, "ref"),
    ],
)
def test_strongest_identifier_wins(
    tokeniser: Tokeniser, everything_from: dict[str, str], strongest: str
) -> None:
    alone = {
        "nhs": ids(nhs_number=NHS),
        "pnc": ids(pnc_id=PNC),
        "la": ids(local_authority_id=LA),
        "ref": ids(agency_ref=REF),
    }
    tokens = {k: tokeniser.subject_token(v, "TEST-POLICE-A") for k, v in alone.items()}
    assert len(set(tokens.values())) == 4, "each identifier alone gives its own token"
    got = tokeniser.subject_token(ids(**everything_from), "TEST-POLICE-A")
    assert got == tokens[strongest]


def test_agencies_naming_a_person_by_nhs_number_and_by_nhs_plus_pnc_meet(
    tokeniser: Tokeniser,
) -> None:
    by_health = tokeniser.subject_token(ids(nhs_number=NHS), "TEST-AE-A")
    by_police = tokeniser.subject_token(ids(nhs_number=NHS, pnc_id=PNC), "TEST-POLICE-A")
    assert by_health == by_police


def test_pnc_id_spelling_does_not_split_a_person(tokeniser: Tokeniser) -> None:
    plain = tokeniser.subject_token(ids(pnc_id="TEST00000002"), "A")
    assert tokeniser.subject_token(ids(pnc_id="test 0000 0002"), "A") == plain


def test_agency_ref_is_scoped_to_the_agency(tokeniser: Tokeniser) -> None:
    police = tokeniser.subject_token(ids(agency_ref=REF), "TEST-POLICE-A")
    health = tokeniser.subject_token(ids(agency_ref=REF), "TEST-AE-A")
    assert police != health
    assert tokeniser.subject_token(ids(agency_ref=REF), "TEST-POLICE-A") == police


def test_agency_ref_scope_holds_for_agency_ids_containing_a_colon(tokeniser: Tokeniser) -> None:
    # Agency ids are principal names, which may contain ':'. Case 5 at "TEST-HOUSING:NORTH"
    # and case "NORTH:5" at "TEST-HOUSING" are different people in different agencies.
    north = tokeniser.subject_token(ids(agency_ref="5"), "TEST-HOUSING:NORTH")
    other = tokeniser.subject_token(ids(agency_ref="NORTH:5"), "TEST-HOUSING")
    assert north != other


@given(agency=st.sampled_from(["TEST-POLICE-A", "TEST-AE-A"]), ref=agency_refs)
def test_agency_ref_never_collides_with_a_strong_identifier_of_the_same_text(
    agency: str, ref: str
) -> None:
    t = Tokeniser(KEY)
    scoped = t.subject_token(ids(agency_ref=ref), agency)
    assert scoped != t.token("nhs", ref)
    assert scoped != t.token("pnc", ref.upper().replace(" ", ""))
    assert scoped != t.token("la", ref.upper())


@given(nhs=nhs_numbers, pnc=pnc_ids)
def test_no_identifier_appears_in_the_token(nhs: str, pnc: str) -> None:
    t = Tokeniser(KEY)
    for identifiers, value in ((ids(nhs_number=nhs), nhs), (ids(pnc_id=pnc), pnc)):
        token = t.subject_token(identifiers, "TEST-POLICE-A")
        assert re.fullmatch(r"st_[a-z2-7]{32}", token)
        assert value.lower() not in token.lower()
        assert value[-4:].lower() not in token.lower()


def test_pseudonymise_keeps_roles_and_drops_names(tokeniser: Tokeniser) -> None:
    subjects = [
        Subject(role=Role.victim, name="Alex Example", identifiers=ids(nhs_number=NHS)),
        Subject(role=Role.perpetrator, name="Sam Sample", identifiers=ids(pnc_id=PNC)),
    ]
    refs = tokeniser.pseudonymise(subjects, "TEST-POLICE-A")
    assert [r.role for r in refs] == ["victim", "perpetrator"]
    assert refs[0].token == tokeniser.subject_token(ids(nhs_number=NHS), "X")
    assert "Alex" not in repr(refs) and NHS not in repr(refs)


@pytest.mark.parametrize("length", [0, 16, 31])
def test_key_shorter_than_32_bytes_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Tokeniser(b"k" * length)


def test_key_of_32_bytes_is_accepted() -> None:
    assert Tokeniser(b"k" * 32).token("nhs", NHS).startswith("st_")


# --- the key file ------------------------------------------------------------------------------


def test_key_file_is_created_readable_by_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "subject-token.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_is_reused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "subject-token.key"
    first = load_or_create_key(path)
    assert load_or_create_key(path) == first


def test_keys_at_different_paths_differ(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a.key") != load_or_create_key(tmp_path / "b.key")


def test_key_length_is_chosen_by_the_caller(tmp_path: Path) -> None:
    assert len(load_or_create_key(tmp_path / "long.key", nbytes=64)) == 64


@pytest.mark.parametrize("length", [0, 31, 33])
def test_key_file_of_wrong_length_is_refused_and_left_alone(tmp_path: Path, length: int) -> None:
    path = tmp_path / "subject-token.key"
    path.write_bytes(b"x" * length)
    with pytest.raises(ValueError, match=f"holds {length} bytes, expected 32"):
        load_or_create_key(path)
    assert path.read_bytes() == b"x" * length
