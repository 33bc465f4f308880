"""Password hashing: strong argon2id parameters, and an unknown name costs a full check.

The hash checked for an unknown name is written out in hub/adapters/sql/logins.py (hashing
it at import cost every process start 0.2 s of CPU). An argon2 verify costs what the
parameters inside the hash say, so the unknown name costs the same as a wrong password only
while those are the hasher's own: the library raising its defaults fails the test here."""

from __future__ import annotations

from argon2 import Type, extract_parameters

from hub.adapters.sql import logins


def test_passwords_are_hashed_with_strong_argon2id_parameters() -> None:
    stored = logins._hasher.hash("TEST-password-of-Alex-Example")
    used = extract_parameters(stored)
    assert used.type is Type.ID
    assert used.memory_cost >= 64 * 1024  # KiB: RFC 9106's second recommended option
    assert used.time_cost >= 3
    assert logins.password_matches(stored, "TEST-password-of-Alex-Example")
    assert not logins.password_matches(stored, "TEST-wrong-password")


def test_an_unknown_name_spends_the_same_argon2_check_as_a_real_password() -> None:
    assert extract_parameters(logins._DUMMY_HASH) == extract_parameters(
        logins._hasher.hash("TEST-password-of-Alex-Example")
    )
    assert not logins._hasher.check_needs_rehash(logins._DUMMY_HASH)
    assert not logins.password_matches(None, "not a password of anyone")
