"""Turning bytes from any way in (HTTP batch, Kafka) into a checked event, or into errors
that name each failing field path and what to fix, without echoing personal data back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.contract.envelope import EVENT_TYPES, Incoming, IncomingEvent

_ADAPTER: TypeAdapter[Incoming] = TypeAdapter(IncomingEvent)


class InvalidEvent(ValueError):
    """The bytes are not an acceptable event. ``reason`` is a stable code, ``errors`` the
    failing field paths."""

    def __init__(self, reason: str, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['msg']}" for e in errors))
        self.reason = reason
        self.errors = errors


def field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    # a discriminated union puts the event type in the path: drop it, the sender knows it
    if parts and parts[0] in EVENT_TYPES:
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def error_entry(loc: Sequence[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "path": field_path(loc), "msg": msg, "type": kind}


def errors_from(raw_errors: Sequence[Any], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """pydantic errors as the hub reports them (no input values)."""
    out = []
    for e in raw_errors:
        loc, kind = (*prefix, *e.get("loc", ())), str(e.get("type", "invalid"))
        msg = str(e.get("msg", "invalid"))
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")  # the discriminator is the field to fix
        elif kind == "json_invalid":
            # FastAPI puts the byte offset in loc: a path names fields, so say it in words
            loc = tuple(p for p in loc if isinstance(p, str))
            reason = (e.get("ctx") or {}).get("error", "")
            position = next((p for p in e.get("loc", ()) if isinstance(p, int)), None)
            where = f" at character {position}" if position is not None else ""
            msg = f"the body is not valid JSON ({reason}{where})"
        out.append(error_entry(loc, msg, kind))
    return out


def parse_event(raw: bytes | str | dict[str, Any], max_bytes: int) -> Incoming:
    """A checked event from raw JSON bytes (or an already decoded object)."""
    if isinstance(raw, (bytes, str)):
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > max_bytes:
            raise InvalidEvent(
                "too_large",
                [
                    error_entry(
                        (), f"the event is {size} bytes; the limit is {max_bytes}", "too_large"
                    )
                ],
            )
        try:
            raw = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEvent(
                "malformed_json", [error_entry((), f"not valid JSON: {exc}", "json_invalid")]
            ) from None
        except RecursionError:
            raise InvalidEvent(
                "malformed_json",
                [error_entry((), "nested too deeply to be an event", "json_invalid")],
            ) from None
    if not isinstance(raw, dict):
        raise InvalidEvent(
            "invalid", [error_entry((), "an event must be a JSON object", "model_type")]
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = errors_from(exc.errors())
        unknown = any(e["type"] == "union_tag_invalid" for e in errors)
        raise InvalidEvent("unknown_type" if unknown else "invalid", errors) from None
