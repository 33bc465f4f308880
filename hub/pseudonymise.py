"""Replace person identifiers with subject tokens (keyed HMAC-SHA256) at ingress.

A token is stable for the same identifier under the same key, so agencies naming a person
by the same strong identifier meet on one token, and reveals nothing without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from hub.contract import Identifiers, Subject
from hub.domain.events import SubjectRef


class Tokeniser:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the subject-token key must be at least 32 bytes")
        self._key = key

    def token(self, kind: str, *values: str) -> str:
        """HMAC over the parts, each length-prefixed so no two part lists read the same."""
        message = "".join(f"{len(part)}:{part}" for part in (kind, *values)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return "st_" + base64.b32encode(digest[:20]).decode().lower()

    def subject_token(self, ids: Identifiers, agency_id: str) -> str:
        """Token from the strongest identifier given; an agency's own reference is agency-scoped."""
        if ids.nhs_number:
            return self.token("nhs", ids.nhs_number)
        if ids.pnc_id:
            return self.token("pnc", ids.pnc_id.upper().replace(" ", ""))
        if ids.local_authority_id:
            return self.token("la", ids.local_authority_id.upper())
        return self.token("agency", agency_id, ids.agency_ref or "")

    def pseudonymise(self, subjects: list[Subject], agency_id: str) -> tuple[SubjectRef, ...]:
        return tuple(
            SubjectRef(self.subject_token(s.identifiers, agency_id), s.role.value) for s in subjects
        )
