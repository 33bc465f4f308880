"""HubClient against fake transports: answers map to results, failures are retried with
backoff, and batches keep one result per event in order."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from producers.http_client import HubClient, as_line, reason_of
from producers.results import HubAuthError, HubProtocolError, HubUnavailable
from tests import builders as b

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, sleeps: list[float] | None = None, retries: int = 3) -> HubClient:
    record = sleeps if sleeps is not None else []
    return HubClient(
        "http://hub.test",
        "hubk_test_key",
        transport=httpx.MockTransport(handler),
        retries=retries,
        sleep=record.append,
    )


def accepted(request: httpx.Request) -> httpx.Response:
    event = json.loads(request.content)
    return httpx.Response(202, json={"id": event["id"], "hub_id": "h-1", "status": "accepted"})


def test_an_accepted_event_and_a_duplicate() -> None:
    event = b.incident()
    assert client(accepted).send(event).status == "accepted"

    def duplicate(request: httpx.Request) -> httpx.Response:
        r = accepted(request)
        r.headers["Hub-Duplicate"] = "true"
        return r

    result = client(duplicate).send(event)
    assert (result.status, result.id, result.hub_id) == ("duplicate", event["id"], "h-1")


def test_the_api_key_is_sent_as_a_bearer_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return accepted(request)

    client(handler).send(b.incident())
    assert seen == ["Bearer hubk_test_key"]


@pytest.mark.parametrize(
    ("status", "detail", "reason"),
    [
        (
            422,
            [{"path": "type", "msg": "no such type", "type": "union_tag_invalid"}],
            "unknown_type",
        ),
        (422, [{"path": "time", "msg": "future", "type": "future_dated"}], "future_dated"),
        (422, [{"path": "(body)", "msg": "bad", "type": "json_invalid"}], "malformed_json"),
        (422, [{"path": "data.to", "msg": "choose", "type": "enum"}], "invalid"),
        (403, "agency type 'health_ae' may not send 'police.incident'", "not_allowed"),
        (409, "event id was already accepted with different content", "conflict"),
    ],
)
def test_refusals_become_rejected_results_with_a_reason(status, detail, reason) -> None:
    result = client(lambda _r: httpx.Response(status, json={"detail": detail})).send(b.incident())
    assert result.status == "rejected"
    assert result.reason == reason
    assert result.errors and result.errors[0]["path"]


def test_an_invalid_api_key_stops_sending() -> None:
    bad_key = client(lambda _r: httpx.Response(401, json={"detail": "this API key is not valid"}))
    with pytest.raises(HubAuthError, match="not valid"):
        bad_key.send(b.incident())


def test_5xx_and_connection_errors_are_retried_with_growing_backoff() -> None:
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        lambda _r: httpx.Response(503),
        lambda _r: httpx.Response(502),
        accepted,
    ]
    sleeps: list[float] = []
    c = client(lambda r: answers.pop(0)(r), sleeps)
    assert c.send(b.incident()).status == "accepted"
    assert c.attempts == 4
    assert len(sleeps) == 3
    assert sleeps[2] > sleeps[0]  # exponential (jitter stays within half of each step)


def test_retry_after_is_honoured() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "1.5"}), None]
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) or accepted(request)

    client(handler, sleeps).send(b.incident())
    assert sleeps == [1.5]


def test_giving_up_says_what_failed() -> None:
    sleeps: list[float] = []
    with pytest.raises(HubUnavailable, match="answered 503; gave up after 3 attempts"):
        client(lambda _r: httpx.Response(503), sleeps, retries=2).send(b.incident())
    assert len(sleeps) == 2


def batch_handler(limit: int = 1000) -> tuple[Handler, list[int]]:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        lines = request.content.split(b"\n")
        sizes.append(len(lines))
        if len(lines) > limit:
            return httpx.Response(413, json={"detail": "too many"})
        results = []
        for i, line in enumerate(lines):
            try:
                event = json.loads(line)
                results.append({"index": i, "id": event["id"], "status": "accepted"})
            except ValueError:
                results.append(
                    {
                        "index": i,
                        "status": "rejected",
                        "reason": "malformed_json",
                        "errors": [{"path": "(body)", "msg": "not JSON"}],
                    }
                )
        return httpx.Response(200, json={"results": results})

    return handler, sizes


def test_send_many_batches_and_keeps_order_with_bad_and_blank_items() -> None:
    handler, sizes = batch_handler()
    events = [b.incident() for _ in range(5)]
    items = [events[0], b"{broken", events[1], b"   ", *events[2:]]
    results = client(handler).send_many(items, batch_size=3)
    assert [r.status for r in results] == [
        "accepted",
        "rejected",
        *["accepted"] * 1,
        "rejected",
        *["accepted"] * 3,
    ]
    assert [r.id for r in results if r.status == "accepted"] == [e["id"] for e in events]
    assert results[1].reason == "malformed_json" and results[3].reason == "malformed_json"
    assert sizes == [3, 2, 1]  # the blank item is never sent (the hub would skip it)


def test_send_many_halves_a_batch_the_hub_finds_too_large() -> None:
    handler, sizes = batch_handler(limit=2)
    results = client(handler).send_many([b.incident() for _ in range(5)], batch_size=5)
    assert [r.status for r in results] == ["accepted"] * 5
    assert sizes == [5, 2, 3, 1, 2]  # 5 refused, then 2 and 3; 3 refused, then 1 and 2


def test_an_unexpected_answer_is_a_protocol_error() -> None:
    with pytest.raises(HubProtocolError, match="400"):
        client(lambda _r: httpx.Response(400, json={"detail": "no"})).send_many([b.incident()])


def test_lines_never_contain_line_breaks() -> None:
    assert as_line(b'{"a":\n1}') == b'{"a": 1}'
    assert b"\n" not in as_line({"text": "two\nlines"})


def test_reason_of_prefers_the_most_specific() -> None:
    assert reason_of([{"type": "missing", "path": "id"}]) == "invalid"
