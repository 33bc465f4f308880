"""HubClient: an agency system sends events to the hub over HTTPS.

``send(event)`` posts one event to ``POST /v1/events``; ``send_many(events)`` posts NDJSON
batches to ``POST /v1/events:batch`` and returns one result per event, in order. Connection
errors, timeouts, 429 and 5xx answers are retried with exponential backoff and jitter.
Resending is safe because the hub dedupes by (agency, event id): an event stored by an
attempt whose answer was lost comes back as "duplicate" on the retry.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from producers.results import (
    HubAuthError,
    HubProtocolError,
    HubUnavailable,
    SendResult,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NDJSON = "application/x-ndjson"

Event = Mapping[str, Any] | bytes | str


def as_line(event: Event) -> bytes:
    """The event as one line of JSON. Raw bytes are sent as they are (so the hub reports what
    is wrong with them); line breaks, which JSON allows only as whitespace, become spaces."""
    if isinstance(event, Mapping):
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    raw = event.encode() if isinstance(event, str) else bytes(event)
    return raw.replace(b"\r", b" ").replace(b"\n", b" ")


def event_id(event: Event) -> str | None:
    if isinstance(event, Mapping):
        value = event.get("id")
        return value if isinstance(value, str) else None
    return None


def reason_of(errors: Sequence[Mapping[str, Any]]) -> str:
    """The hub's reason code for a 422 answer to POST /v1/events, from its error types."""
    kinds = {str(e.get("type", "")) for e in errors}
    if kinds & {"union_tag_invalid"}:
        return "unknown_type"
    if "json_invalid" in kinds:
        return "malformed_json"
    if "future_dated" in kinds:  # the hub names its own reason as the error type
        return "future_dated"
    return "invalid"


class _TryAgain(Exception):
    """An attempt that may succeed later: the hub was unreachable, busy or failing."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HubClient:
    """Send events to the hub's HTTP API with one agency system's API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.attempts = 0  # requests made, retries included (for progress and tests)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._random = random.Random()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "hub-producers/0.1"},
        )

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, event: Event) -> SendResult:
        """Send one event; its result (accepted, duplicate or rejected with reason)."""
        r = self._post("/v1/events", as_line(event), "application/json")
        ident = event_id(event)
        if r.status_code == 202:
            body = r.json()
            duplicate = r.headers.get("Hub-Duplicate") == "true"
            return SendResult(
                body.get("id", ident), "duplicate" if duplicate else "accepted", body.get("hub_id")
            )
        detail = _detail(r)
        if r.status_code == 422 and isinstance(detail, list):
            return SendResult(ident, "rejected", reason=reason_of(detail), errors=tuple(detail))
        single = {403: ("not_allowed", "type"), 409: ("conflict", "id"), 413: ("too_large", "")}
        if r.status_code in single:
            reason, path = single[r.status_code]
            error = {"path": path or "(body)", "msg": str(detail), "type": reason}
            return SendResult(ident, "rejected", reason=reason, errors=(error,))
        raise self._unexpected(r)

    def send_many(self, events: Sequence[Event], batch_size: int = 500) -> list[SendResult]:
        """Send events in NDJSON batches of batch_size; one result per event, in order."""
        results: list[SendResult] = []
        for start in range(0, len(events), batch_size):
            results += self._send_batch(list(events[start : start + batch_size]))
        return results

    def _send_batch(self, events: list[Event]) -> list[SendResult]:
        lines = [as_line(e) for e in events]
        blank = [i for i, line in enumerate(lines) if not line.strip()]
        if blank:  # the hub skips blank lines, which would shift every later result
            return self._without_blank(events, set(blank))
        r = self._post("/v1/events:batch", b"\n".join(lines), NDJSON)
        if r.status_code == 413 and len(events) > 1:  # the hub's batch limit is lower
            half = len(events) // 2
            return self._send_batch(events[:half]) + self._send_batch(events[half:])
        if r.status_code != 200:
            raise self._unexpected(r)
        items = r.json().get("results", [])
        if len(items) != len(events):
            raise HubProtocolError(f"the hub answered {len(items)} results for {len(events)}")
        return [
            SendResult(
                item.get("id") or event_id(event),
                item["status"],
                item.get("hub_id"),
                item.get("reason"),
                tuple(item.get("errors") or ()),
            )
            for event, item in zip(events, items, strict=True)
        ]

    def _without_blank(self, events: list[Event], blank: set[int]) -> list[SendResult]:
        kept = [e for i, e in enumerate(events) if i not in blank]
        sent = iter(self._send_batch(kept) if kept else [])
        empty = {"path": "(body)", "msg": "the event is empty", "type": "json_invalid"}
        return [
            SendResult(None, "rejected", reason="malformed_json", errors=(empty,))
            if i in blank
            else next(sent)
            for i in range(len(events))
        ]

    def _post(self, path: str, content: bytes, content_type: str) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_TryAgain),
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            sleep=self._sleep,
        )
        try:
            response: httpx.Response = retrying(self._post_once, path, content, content_type)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise HubUnavailable(f"{last}; gave up after {self.retries + 1} attempts") from None
        return response

    def _post_once(self, path: str, content: bytes, content_type: str) -> httpx.Response:
        """One request; _TryAgain when the hub could not be reached or asked us to wait."""
        self.attempts += 1
        try:
            r = self._http.post(path, content=content, headers={"Content-Type": content_type})
        except httpx.TransportError as exc:
            raise _TryAgain(
                f"could not reach the hub at {self.base_url} ({type(exc).__name__}: {exc})"
            ) from None
        if r.status_code == 401:
            raise HubAuthError(f"the hub refused the API key: {_detail(r)}")
        if r.status_code in RETRY_STATUSES:
            raise _TryAgain(
                f"the hub at {self.base_url} answered {r.status_code}",
                _seconds(r.headers.get("Retry-After")),
            )
        return r

    def _wait(self, state: RetryCallState) -> float:
        failed = state.outcome.exception() if state.outcome else None
        retry_after = failed.retry_after if isinstance(failed, _TryAgain) else None
        return self._delay(state.attempt_number - 1, retry_after)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_backoff)
        ceiling: float = min(self._max_backoff, self._backoff * 2.0**attempt)
        return ceiling * (0.5 + self._random.random() / 2)  # jitter: senders do not align

    def _unexpected(self, r: httpx.Response) -> HubProtocolError:
        return HubProtocolError(f"the hub answered {r.status_code}: {_detail(r)}")


def _detail(r: httpx.Response) -> Any:
    try:
        return r.json().get("detail", r.text)
    except (ValueError, AttributeError):
        return r.text[:500]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
