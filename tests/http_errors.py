"""Reading the hub's error bodies: {"detail": [{"loc", "path", "msg", "type"}, ...]}."""

from __future__ import annotations

from typing import Any


def detail_text(response: Any) -> str:
    """Every problem's message in an error answer, as one string to search."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), f"an error body's detail is a list of problems: {detail!r}"
    return " | ".join(p["msg"] for p in detail)
