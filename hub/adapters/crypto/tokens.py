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
        # keyed once: each token copies it rather than deriving the HMAC pads from the key again
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def token(self, kind: str, *values: str) -> str:
        """HMAC over the parts, each length-prefixed so no two part lists read the same."""
        message = "".join(f"{len(part)}:{part}" for part in (kind, *values)).encode()
        mac = self._mac.copy()
        mac.update(message)
        digest = mac.digest()
        return "st_" + base64.b32encode(digest[:20]).decode().lower()

    def strong_tokens(self, ids: Identifiers) -> tuple[str, ...]:
        """A token per strong identifier given (NHS number, PNC id, local authority id),
        strongest first: the person index joins them into one person."""
        out = []
        if ids.nhs_number:
            out.append(self.token("nhs", ids.nhs_number))
        if ids.pnc_id:
            out.append(self.token("pnc", ids.pnc_id.upper().replace(" ", "")))
        if ids.local_authority_id:
            out.append(self.token("la", ids.local_authority_id.upper()))
        return tuple(out)

    def subject_token(self, ids: Identifiers, agency_id: str) -> str:
        """Token from the strongest identifier given; an agency's own reference is agency-scoped."""
        strong = self.strong_tokens(ids)
        return strong[0] if strong else self.token("agency", agency_id, ids.agency_ref or "")

    def weak_token(self, subject: Subject) -> str | None:
        """Keyed token of name, date of birth and postcode, normalised; None unless all three."""
        if not (subject.name and subject.date_of_birth and subject.postcode):
            return None
        return self.weak_key(subject.name, subject.date_of_birth, subject.postcode)

    def weak_key(self, name: str, date_of_birth: str, postcode: str) -> str:
        """The weak token of a name, date of birth and postcode, normalised as ingress does."""
        plain = " ".join("".join(c for c in name.casefold() if c.isalpha() or c == " ").split())
        return self.token("weak", plain, date_of_birth.strip(), postcode.upper().replace(" ", ""))

    def pseudonymise(self, subjects: list[Subject], agency_id: str) -> tuple[SubjectRef, ...]:
        refs = []
        for s in subjects:
            strong = self.strong_tokens(s.identifiers)
            token = strong[0] if strong else self.subject_token(s.identifiers, agency_id)
            others = strong if len(strong) > 1 else ()
            refs.append(
                SubjectRef(token, s.role.value, others, self.weak_token(s), school=s.school)
            )
        return tuple(refs)
