"""The CloudEvents Kafka protocol binding, as the hub reads it from ``hub.ingress.raw``.

Binary content mode: every attribute in a ``ce_<name>`` header (UTF-8), the data JSON in the
value, ``content-type: application/json`` (or absent). Structured content mode:
``content-type: application/cloudevents+json`` and the whole envelope in the value. Either
way the result is the envelope as a dict, which ``parse_event`` then checks; a message that
is not a CloudEvent in either mode raises ``InvalidEvent`` naming the header to fix. Pure:
no Kafka client, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.contract.parse import InvalidEvent, error_entry

STRUCTURED_TYPE = "application/cloudevents+json"
BATCH_TYPE = "application/cloudevents-batch+json"
DATA_TYPE = "application/json"
CE_PREFIX = "ce_"
# Defined by the Kafka binding itself (it names the message key), not by the hub's contract.
BINDING_ATTRIBUTES = frozenset({"partitionkey"})


@dataclass(frozen=True)
class RawRecord:
    """One message as read from Kafka: bytes and headers exactly as the agency sent them."""

    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    key: bytes | None = None
    topic: str = ""
    partition: int = -1
    offset: int = -1

    def header(self, name: str) -> list[bytes | None]:
        return [v for n, v in self.headers if n.lower() == name]

    @property
    def size(self) -> int:
        return len(self.value or b"") + sum(len(n) + len(v or b"") for n, v in self.headers)

    @property
    def where(self) -> str:
        """Where the message came from, for logs (never its contents)."""
        return f"{self.topic}[{self.partition}]@{self.offset}"


def _invalid(reason: str, loc: tuple[str, ...], msg: str, kind: str) -> InvalidEvent:
    return InvalidEvent(reason, [error_entry(loc, msg, kind)])


def load_json(raw: bytes | None, what: str) -> Any:
    """JSON from bytes; malformed_json (never an exception of another kind) when it is not."""
    if raw is None:
        raise _invalid(
            "invalid", (what,), "the message has no value; put the event in it", "missing"
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(
            "malformed_json", (what,), f"not valid JSON: {exc}", "json_invalid"
        ) from None
    except RecursionError:
        raise _invalid(
            "malformed_json", (what,), "the JSON is nested too deeply", "json_invalid"
        ) from None


def _text(record: RawRecord, name: str) -> str | None:
    """The single header of that name as text; None when absent."""
    values = record.header(name)
    if not values:
        return None
    loc = ("headers", name)
    if len(values) > 1:
        raise _invalid("invalid", loc, "the header appears more than once; send it once", "binding")
    try:
        return (values[0] or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("invalid", loc, "the header is not UTF-8 text", "binding") from None


def _media_type(content_type: str | None) -> str | None:
    return None if content_type is None else content_type.split(";")[0].strip().lower()


def check_size(record: RawRecord, max_bytes: int) -> None:
    if record.size > max_bytes:
        raise _invalid(
            "too_large",
            (),
            f"the message is {record.size} bytes with its headers; the limit is {max_bytes}",
            "too_large",
        )


def to_envelope(record: RawRecord, max_bytes: int) -> dict[str, Any]:
    """The envelope a message carries, in either content mode, before its schema is checked."""
    check_size(record, max_bytes)
    media = _media_type(_text(record, "content-type"))
    if media == STRUCTURED_TYPE:
        whole = load_json(record.value, "(value)")
        if not isinstance(whole, dict):
            raise _invalid("invalid", (), "an event must be a JSON object", "model_type")
        if "data_base64" in whole:
            raise _invalid(
                "invalid", ("data_base64",), "send data as JSON in 'data'", "extra_forbidden"
            )
        return whole
    if media == BATCH_TYPE:
        raise _invalid(
            "invalid",
            ("headers", "content-type"),
            "batched mode is not accepted on Kafka; send one event per message",
            "binding",
        )
    names = {n.lower() for n, _ in record.headers if n.lower().startswith(CE_PREFIX)}
    if not names:
        raise _invalid(
            "invalid",
            ("headers",),
            "not a CloudEvent: use binary mode (ce_* headers, data in the value) or structured "
            f"mode (content-type: {STRUCTURED_TYPE}, the whole event in the value)",
            "binding",
        )
    if media is not None and media != DATA_TYPE:
        raise _invalid(
            "invalid",
            ("headers", "content-type"),
            f"binary mode carries JSON data: set content-type to {DATA_TYPE}",
            "binding",
        )
    envelope: dict[str, Any] = {}
    for name in sorted(names):
        attribute = name[len(CE_PREFIX) :]
        text = _text(record, name)
        if attribute not in BINDING_ATTRIBUTES and text is not None:
            envelope[attribute] = text
    if media is not None:
        envelope["datacontenttype"] = DATA_TYPE
    envelope["data"] = load_json(record.value, "data")
    return envelope
