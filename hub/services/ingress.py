"""Ingress: check the sender's right, pseudonymise, encrypt, and append to the event store.

Errors (one tree, each says what to fix):

    IngressError
    ├── NotAllowedToSend   the agency type may not send this event type (HTTP 403)
    ├── EventIdConflict    the event id was used before with different content (HTTP 409)
    └── EventRejected      the event breaks a rule beyond its schema (HTTP 422)
        └── FutureDated    its time or senttime lies ahead of the hub's clock

Each class carries its ``reason``, the code every way in reports (HTTP batch results, the
Kafka rejected topic, hub-send), so the codes are named once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.crypto.vault import seal_field
from hub.adapters.sql.events import AppendResult, SqlEventStore
from hub.adapters.sql.principals import Principal
from hub.contract import CURRENT_VERSION, SENSITIVE, DashRiskAssessment, Incoming
from hub.domain.agencies import AgencyType, refusal_to_send
from hub.domain.events import CanonicalEvent, SubjectRef, Unsealed, hub_event_id, primary_token


class IngressError(Exception):
    """An event was not accepted; str(error) says why and what to fix."""

    reason: ClassVar[str] = "invalid"
    field_path: tuple[str | int, ...] = ()


class NotAllowedToSend(IngressError):
    reason = "not_allowed"


class EventIdConflict(IngressError):
    reason = "conflict"


class EventRejected(IngressError):
    reason = "invalid"

    def __init__(self, message: str, field_path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.field_path = field_path


class FutureDated(EventRejected):
    reason = "future_dated"


@dataclass(frozen=True)
class Receipt:
    id: str
    hub_id: str
    duplicate: bool


def sensitive_fields(incoming: Incoming) -> list[str]:
    fields = type(incoming.data).model_fields
    return [name for name, f in fields.items() if f.json_schema_extra == SENSITIVE]


@dataclass
class Ingress:
    store: SqlEventStore  # seals what prepare marks Unsealed, in the transaction storing it
    tokeniser: Tokeniser
    agency_types: dict[str, AgencyType]
    events_topic: str
    future_tolerance: timedelta

    def accept(self, incoming: Incoming, sender: Principal, now: datetime) -> Receipt:
        """Append the event (once) and return its receipt; raise IngressError when refused."""
        event, content_hash = self.prepare(incoming, sender, now)
        return self.receipt(incoming, self.store.append(event, content_hash, self.events_topic))

    def check_sender(self, sender: Principal) -> AgencyType:
        """The sender is an agency system of a known type (else NotAllowedToSend): checked
        once for a whole batch, so a person's batch is refused whole, like a single event."""
        agency_type = self.agency_types.get(sender.role)
        if sender.kind != "agency_system" or agency_type is None or sender.agency_id is None:
            raise NotAllowedToSend("only agency systems may send events; use an agency's API key")
        return agency_type

    def check(self, incoming: Incoming, sender: Principal, now: datetime) -> AgencyType:
        """The sender's right to send this event, and rules beyond the schema."""
        agency_type = self.check_sender(sender)
        if incoming.agency is not None and incoming.agency != sender.agency_id:
            raise NotAllowedToSend(
                f"the event names agency {incoming.agency!r} but was sent with the credential of "
                f"{sender.agency_id!r}; send each agency's events with its own credential"
            )
        refusal = refusal_to_send(agency_type, incoming.type)
        if refusal:
            raise NotAllowedToSend(refusal)
        limit = now + self.future_tolerance
        for name in ("time", "senttime"):
            value = getattr(incoming, name)
            if value is not None and value > limit:
                raise FutureDated(
                    f"{name} {value.isoformat()} is in the future (more than "
                    f"{int(self.future_tolerance.total_seconds())} s ahead of the hub's clock); "
                    "send the time the thing happened, with its UTC offset",
                    (name,),
                )
        return agency_type

    def prepare(
        self, incoming: Incoming, sender: Principal, now: datetime
    ) -> tuple[CanonicalEvent, str]:
        """Check the event and build its pseudonymised canonical form, its sensitive fields
        marked Unsealed: the event store seals them as it stores the event."""
        agency_type = self.check(incoming, sender, now)
        assert sender.agency_id is not None  # checked above
        # keyed, so the stored hash cannot be used to test guesses about a person
        content_hash = self.tokeniser.token("content", _canonical(incoming))
        hub_id = hub_event_id(sender.agency_id, incoming.id)
        subjects = self._seal_identities(
            self.tokeniser.pseudonymise(incoming.data.subjects, sender.agency_id),
            incoming,
        )
        data = self._data(incoming, primary_token(subjects))
        event = CanonicalEvent(
            hub_id=hub_id,
            source_id=incoming.id,
            agency_id=sender.agency_id,
            agency_type=agency_type.name,
            type=incoming.type,
            time=incoming.time.astimezone(UTC),
            recorded_at=now,
            lawful_basis=incoming.lawfulbasis.value if incoming.lawfulbasis else None,
            consent_ref=incoming.consentref,
            subjects=subjects,
            data=data,
            schema_version=CURRENT_VERSION[incoming.type],
            sent_at=incoming.senttime,
            case_token=(
                self.tokeniser.token("case", sender.agency_id, incoming.subject)
                if incoming.subject
                else None
            ),
        )
        return event, content_hash

    @staticmethod
    def _seal_identities(
        refs: tuple[SubjectRef, ...], incoming: Incoming
    ) -> tuple[SubjectRef, ...]:
        """Names and dates of birth travel only sealed, under each subject's own key."""
        # sealed by the event store, under the key it reads or makes in the same transaction
        out = []
        for ref, subject in zip(refs, incoming.data.subjects, strict=True):
            if subject.name or subject.date_of_birth:
                identity = {"name": subject.name, "date_of_birth": subject.date_of_birth}
                ref = replace(ref, sealed=Unsealed(ref.token, seal_field(ref.token), identity))
            out.append(ref)
        return tuple(out)

    @staticmethod
    def _data(incoming: Incoming, key_owner: str) -> dict[str, Any]:
        """The payload without people, sensitive fields sealed under key_owner's data key."""
        data = incoming.data.model_dump(mode="json", exclude={"subjects"})
        if isinstance(incoming, DashRiskAssessment):
            data["score"] = incoming.data.answers.count("yes")
        for name in sensitive_fields(incoming):
            if data.get(name) is not None:
                data[name] = Unsealed(key_owner, name, data[name])
        return data

    @staticmethod
    def receipt(incoming: Incoming, result: AppendResult) -> Receipt:
        """The answer for a stored (or already stored) event; a changed resend is a conflict."""
        if not result.same_content:
            raise EventIdConflict(
                f"event id {incoming.id!r} was already accepted from your agency with different "
                "content; give a corrected event a new id"
            )
        return Receipt(incoming.id, result.hub_id, duplicate=not result.stored)


def _canonical(incoming: Incoming) -> str:
    """The event's content in a fixed form (field order is the model's), for its hash."""
    return incoming.model_dump_json()
