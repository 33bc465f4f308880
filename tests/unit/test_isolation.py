"""Poison isolation: which events are set apart, and which faults are not the event's."""

from __future__ import annotations

import pytest
from aiokafka.errors import KafkaConnectionError as AioKafkaConnectionError
from kafka.errors import NodeNotReadyError
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.pipeline.isolation import Unsettled, describe, is_infrastructure, isolate


def refusing(*poison: str, calls: list[list[str]] | None = None):  # type: ignore[no-untyped-def]
    """An attempt that fails whenever one of the poison items is among those it is given."""

    def attempt(items: list[str]) -> str:
        if calls is not None:
            calls.append(items)
        bad = [i for i in items if i in poison]
        if bad:
            raise OverflowError("date value out of range")
        return "+".join(items)

    return attempt


def test_good_items_are_applied_in_one_attempt() -> None:
    calls: list[list[str]] = []
    done = isolate(refusing("x", calls=calls), ["a", "b", "c"])
    assert (done.result, done.applied, done.failed) == ("a+b+c", ["a", "b", "c"], [])
    assert calls == [["a", "b", "c"]]  # no search when nothing fails


def test_the_poison_items_are_set_apart_and_the_rest_applied() -> None:
    done = isolate(refusing("b", "d"), ["a", "b", "c", "d", "e"])
    assert done.result == "a+c+e" and done.applied == ["a", "c", "e"]
    assert [(item, type(exc).__name__) for item, exc in done.failed] == [
        ("b", "OverflowError"),
        ("d", "OverflowError"),
    ]


def test_items_that_fail_only_together_set_the_later_one_apart() -> None:
    def attempt(items: list[str]) -> int:
        if {"a", "c"} <= set(items):
            raise KeyError("rule meets both")
        return len(items)

    done = isolate(attempt, ["a", "b", "c"])
    assert done.applied == ["a", "b"] and [item for item, _ in done.failed] == ["c"]


def test_a_family_that_fails_without_any_item_is_unsettled() -> None:
    def attempt(items: list[str]) -> None:
        raise ValueError("the stored projection cannot be read")

    with pytest.raises(Unsettled) as raised:
        isolate(attempt, ["a", "b"])
    assert isinstance(raised.value.cause, ValueError)
    with pytest.raises(Unsettled):
        isolate(attempt, [])


@pytest.mark.parametrize(
    "fault",
    [
        OperationalError("SELECT 1", {}, Exception("database is locked")),
        NodeNotReadyError(),
        AioKafkaConnectionError(),
        ConnectionRefusedError(),
    ],
)
def test_an_infrastructure_fault_is_raised_not_blamed_on_an_item(fault: Exception) -> None:
    calls: list[list[str]] = []

    def attempt(items: list[str]) -> None:
        calls.append(items)
        raise fault

    assert is_infrastructure(fault)
    with pytest.raises(type(fault)):
        isolate(attempt, ["a", "b"])
    assert calls == [["a", "b"]]  # the batch is retried as a whole by the caller


def test_errors_that_come_with_the_event_are_poison() -> None:
    refused = IntegrityError("INSERT", {}, Exception("value too long"))
    for exc in (OverflowError("x"), KeyError("x"), ValueError("x"), TypeError("x"), refused):
        assert not is_infrastructure(exc)


def test_a_failure_reason_carries_no_value_of_the_event() -> None:
    kind, message = describe(ValueError("Invalid isoformat string: '0001-01-01T00:00:00+00:00'"))
    assert (kind, message) == ("ValueError", "Invalid isoformat string: …")
    kind, message = describe(KeyError("Alex Example"))
    assert kind == "KeyError" and "Alex" not in message
    _, message = describe(LookupError("no person for NHS 9990000601\nsecond line"))
    assert "9990000601" not in message and "second line" not in message
    _, message = describe(OverflowError("date value out of range"))
    assert message == "date value out of range"
