"""Kafka-direct ingress, the work on one batch of raw messages (no Kafka client here).

For each message: size, sender (Ed25519 signature, hub/contract/signing.py), CloudEvents binding
(hub/adapters/kafka/binding.py), the contract (``parse_event``), then ``Ingress.prepare`` with the
agency's principal; the accepted are appended in one transaction. Every message gets exactly
one ``Outcome``: accepted, duplicate, or rejected with a reason and field paths.

Reasons: too_large, malformed_json, invalid, unknown_type (from parse_event), unauthenticated,
not_sealed (plaintext from an agency whose area requires sealing; the refusal then carries no
value), sealed_invalid, not_allowed, future_dated, conflict, and internal_error for a fault of
the hub's own that affects one message (logged with its offset, never its contents).
docs/kafka-ingress.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from cachetools import TLRUCache
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.exc import SQLAlchemyError

from hub.adapters.crypto.ciphers import CryptoError
from hub.adapters.kafka.binding import RawRecord, check_size, to_envelope
from hub.adapters.sql.principals import Principal
from hub.contract import Incoming
from hub.contract.parse import InvalidEvent, error_entry, parse_event
from hub.contract.sealing import SCHEME, SEALED_HEADER, SealError, unseal
from hub.contract.signing import AGENCY_HEADER, verify
from hub.domain.events import CanonicalEvent
from hub.services.ingress import (
    EventIdConflict,
    Ingress,
    IngressError,
)

log = logging.getLogger(__name__)

# Faults of the hub's own infrastructure: the batch is retried (the partition waits), never
# rejected, because the sender did nothing wrong.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, CryptoError)

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class Outcome:
    record: RawRecord
    status: Status
    event_id: str | None = None
    hub_id: str | None = None
    reason: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


# An agency's principal and its active raw public keys.
Identity = tuple[Principal, list[bytes]]


class SigningDirectory(Protocol):
    def signing_identity(self, agency_id: str) -> Identity | None: ...


class CachedDirectory:
    """Signing identities looked up at most once per ``ttl_seconds`` per agency (a revoked
    key keeps working at most that long); an agency with no key is asked again after
    ``miss_seconds``, so a key registered a moment ago is soon accepted. ``timer`` is the
    clock the lifetimes run on (monotonic; tests pass a fake one)."""

    def __init__(
        self,
        inner: SigningDirectory,
        ttl_seconds: float = 30.0,
        miss_seconds: float = 5.0,
        timer: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._inner = inner

        def expires(_agency: str, found: Identity | None, now: float) -> float:
            return now + (ttl_seconds if found is not None else miss_seconds)

        # A TLRU cache: each entry's lifetime depends on whether the agency had a key.
        self._entries: TLRUCache[str, Identity | None] = TLRUCache(
            max_entries, expires, timer=timer
        )
        self._lock = threading.Lock()  # handle_batch runs in worker threads

    def signing_identity(self, agency_id: str) -> Identity | None:
        with self._lock:
            if agency_id in self._entries:
                cached: Identity | None = self._entries[agency_id]
                return cached
        found = self._inner.signing_identity(agency_id)
        with self._lock:
            self._entries[agency_id] = found
        return found


class Refused(Exception):
    def __init__(self, reason: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def _unauthenticated(msg: str) -> Refused:
    return Refused("unauthenticated", [error_entry(("headers", AGENCY_HEADER), msg, "auth")])


def authenticate(record: RawRecord, directory: SigningDirectory) -> Principal:
    """The agency principal whose registered key signed this message, or Refused."""
    claimed = record.header(AGENCY_HEADER)
    if len(claimed) != 1 or not claimed[0]:
        raise _unauthenticated(
            "send your agency id once in the hub_agency header, and sign the message"
        )
    try:
        agency_id = claimed[0].decode("utf-8")
    except UnicodeDecodeError:
        raise _unauthenticated("the hub_agency header is not UTF-8 text") from None
    identity = directory.signing_identity(agency_id)
    if identity is None:
        raise _unauthenticated(
            f"agency {agency_id!r} has no registered signing key; ask the hub administrator "
            "to register your public key (`hub agencies signing-key`)"
        )
    principal, keys = identity
    if not verify(keys, record.value, record.headers):
        raise _unauthenticated(
            "the hub_signature does not verify with any key registered for this agency; sign "
            "the value and the ce_*, content-type and hub_agency headers as "
            "docs/kafka-ingress.md describes, with your current key"
        )
    return principal


def _sealed_invalid(msg: str) -> Refused:
    return Refused("sealed_invalid", [error_entry(("headers", SEALED_HEADER), msg, "sealed")])


@dataclass
class _Ready:
    index: int
    incoming: Incoming
    canonical: CanonicalEvent
    content_hash: str


def _never(_agency_id: str) -> bool:
    return False


class KafkaIngress:
    """The agent's work on one batch of raw messages, without Kafka: testable on its own.

    ``ingress_key`` opens sealed messages (hub/contract/sealing.py); ``plaintext_allowed`` says
    whether an agency's area still accepts unsealed ones (default: none does)."""

    def __init__(
        self,
        ingress: Ingress,
        directory: SigningDirectory,
        max_event_bytes: int,
        ingress_key: X25519PrivateKey | None = None,
        plaintext_allowed: Callable[[str], bool] = _never,
    ):
        self.ingress = ingress
        self.directory = directory
        self.max_event_bytes = max_event_bytes
        self.ingress_key = ingress_key
        self.plaintext_allowed = plaintext_allowed

    def opened(self, record: RawRecord, principal: Principal) -> RawRecord:
        """The record with its value unsealed, or as it is where plaintext is allowed."""
        marks = record.header(SEALED_HEADER)
        if not marks:
            if principal.agency_id is not None and self.plaintext_allowed(principal.agency_id):
                return record
            raise Refused(
                "not_sealed",
                [
                    error_entry(
                        ("headers", SEALED_HEADER),
                        "seal the event to the hub's ingress public key (`hub ingress-key`; "
                        "hub-send and KafkaHubProducer do it when given the key) and send "
                        f"the {SEALED_HEADER} header: your area does not accept plaintext",
                        "not_sealed",
                    )
                ],
            )
        if marks != [SCHEME] or self.ingress_key is None:
            raise _sealed_invalid(
                f"send {SEALED_HEADER}: {SCHEME.decode()} once; it is the only scheme the hub opens"
            )
        try:
            value = unseal(self.ingress_key, record.value or b"")
        except SealError as exc:
            raise _sealed_invalid(str(exc)) from None
        headers = tuple((n, v) for n, v in record.headers if n.lower() != SEALED_HEADER)
        return replace(record, value=value, headers=headers)

    def check(self, record: RawRecord, now: datetime) -> tuple[Incoming, CanonicalEvent, str]:
        """One message through every check up to its canonical form; Refused when refused."""
        try:
            check_size(record, self.max_event_bytes)  # before spending a signature check on it
            principal = authenticate(record, self.directory)
            record = self.opened(record, principal)
            incoming = parse_event(to_envelope(record, self.max_event_bytes), self.max_event_bytes)
            canonical, content_hash = self.ingress.prepare(incoming, principal, now)
        except InvalidEvent as exc:
            raise Refused(exc.reason, exc.errors) from None
        except IngressError as exc:
            raise Refused(exc.reason, [error_entry(exc.field_path, str(exc), exc.reason)]) from None
        return incoming, canonical, content_hash

    def handle_batch(self, records: Sequence[RawRecord], now: datetime) -> list[Outcome]:
        """An outcome for every record, in order. Raises only for the hub's own infrastructure
        faults (INFRASTRUCTURE_ERRORS), after which the whole batch may be retried."""
        outcomes: list[Outcome | None] = [None] * len(records)
        ready: list[_Ready] = []
        for i, record in enumerate(records):
            try:
                incoming, canonical, content_hash = self.check(record, now)
            except Refused as refused:
                # refused plaintext is not copied onto the rejected topic: it may name people
                kept = replace(record, value=None) if refused.reason == "not_sealed" else record
                outcomes[i] = Outcome(
                    kept, "rejected", _claimed_id(record), None, refused.reason, refused.errors
                )
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as exc:  # a fault of ours on one message must not stall the rest
                log.error("ingress could not process %s: %s", record.where, type(exc).__name__)
                outcomes[i] = Outcome(
                    record,
                    "rejected",
                    _claimed_id(record),
                    reason="internal_error",
                    errors=[
                        error_entry(
                            (),
                            "the hub failed on this message; tell the hub administrator its offset",
                            "internal_error",
                        )
                    ],
                )
            else:
                ready.append(_Ready(i, incoming, canonical, content_hash))
        if ready:
            topic = self.ingress.events_topic
            results = self.ingress.store.append_many(
                [(r.canonical, r.content_hash, topic) for r in ready]
            )
            for r, result in zip(ready, results, strict=True):
                outcomes[r.index] = self._stored(records[r.index], r.incoming, result)
        return [o for o in outcomes if o is not None]

    def _stored(self, record: RawRecord, incoming: Incoming, result: Any) -> Outcome:
        try:
            receipt = self.ingress.receipt(incoming, result)
        except EventIdConflict as exc:
            return Outcome(
                record,
                "rejected",
                incoming.id,
                result.hub_id,
                exc.reason,
                [error_entry(("id",), str(exc), exc.reason)],
            )
        return Outcome(
            record, "duplicate" if receipt.duplicate else "accepted", incoming.id, receipt.hub_id
        )


def _claimed_id(record: RawRecord) -> str | None:
    """The event id the message claims, for the rejection record (best effort)."""
    ids = record.header("ce_id")
    if len(ids) == 1 and ids[0]:
        return ids[0].decode("utf-8", "replace")
    return None


def rejection_headers(outcome: Outcome, now: datetime) -> list[tuple[str, bytes]]:
    """The original headers, then the hub's: reason code, errors (paths and what to fix, no
    values), where the message came from, and when it was refused."""
    rec = outcome.record
    return [
        *((n, v or b"") for n, v in rec.headers),
        ("hub_reject_reason", (outcome.reason or "").encode()),
        ("hub_reject_errors", json.dumps(outcome.errors, separators=(",", ":")).encode()),
        ("hub_reject_source", f"{rec.topic}/{rec.partition}/{rec.offset}".encode()),
        ("hub_rejected_at", now.isoformat().encode()),
    ]
