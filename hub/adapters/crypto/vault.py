"""The sealed vault of names and dates of birth, by subject token.

Ingress seals the name and date of birth an agency sends for a person under that person's
data key, bound to the event and the token (``seal_field``); the sealed value travels in the
event (subjects[].sealed) and the linker keeps the latest per token in ``subject_vault``. Only
recipients the sharing policy allows are shown names; erasure leaves them unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from hub.adapters.crypto.ciphers import ERASED, FieldCipher
from hub.adapters.sql.schema import subject_vault

FIELD = "identity"


def seal_field(token: str) -> str:
    """The associated-data label a subject's sealed identity is bound to."""
    return f"subject:{token}"


class Vault:
    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def names(self, tokens: Iterable[str]) -> dict[str, dict[str, Any]]:
        """token → {"name", "date_of_birth"} for the tokens the vault holds (None when erased)."""
        wanted = sorted(set(tokens))
        if not wanted:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(subject_vault).where(
                    subject_vault.c.token.in_(wanted), subject_vault.c.field == FIELD
                )
            ).all()
        sealed = [json.loads(r.value) for r in rows]
        keys = self._cipher.opening_keys(sealed)
        out: dict[str, dict[str, Any]] = {}
        for r, value in zip(rows, sealed, strict=True):
            opened = self._cipher.decrypt(r.hub_id, seal_field(r.token), value, keys)
            if opened == ERASED or not isinstance(opened, dict):
                out[r.token] = {"name": None, "date_of_birth": None, "erased": True}
            else:
                out[r.token] = {
                    "name": opened.get("name"),
                    "date_of_birth": opened.get("date_of_birth"),
                }
        return out
