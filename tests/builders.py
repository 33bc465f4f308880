"""Builders of obviously fake events for tests."""

from __future__ import annotations

import uuid
from typing import Any


def victim(nhs: str = "9990000001", name: str = "Alex Example") -> dict[str, Any]:
    return {"role": "victim", "name": name, "identifiers": {"nhs_number": nhs}}


def perpetrator(pnc: str = "TEST00000002", name: str = "Sam Sample") -> dict[str, Any]:
    return {"role": "perpetrator", "name": name, "identifiers": {"pnc_id": pnc}}


def _envelope(event_type: str, data: dict[str, Any], **over: Any) -> dict[str, Any]:
    env = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:test:agency",
        "type": event_type,
        "time": "2026-03-01T10:00:00Z",
        "lawfulbasis": "ukgdpr-6-1-e",
        "data": data,
    }
    env.update(over)
    return {k: v for k, v in env.items() if v is not None}


def dash(yes: int, subjects: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    answers = ["yes"] * yes + ["no"] * (24 - yes)
    data = {"subjects": subjects or [victim()], "answers": answers, "assessor_role": "idva"}
    return _envelope("risk.dash", data, **over)


def incident(subjects: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    data = {"subjects": subjects or [victim(), perpetrator()], "abuse_types": ["physical"]}
    return _envelope("police.incident", data, **{"lawfulbasis": "dpa2018-part3", **over})


def referral(to: str = "idva", **over: Any) -> dict[str, Any]:
    return _envelope("referral.made", {"subjects": [victim()], "to": to}, **over)
