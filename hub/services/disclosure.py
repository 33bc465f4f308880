"""The policy enforcement point: every path that shows personal information calls
``PolicyPoint.disclose``. It decides per item (consent/decision.py), filters each view to the
fields allowed, writes the audit record before anything leaves (fail closed), and returns
the views with the decisions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from cachetools import LRUCache
from sqlalchemy import Engine, select

from consent.decision import Decision, Item, Override, Recipient, decide_disclosure
from consent.policy import SharingPolicy
from consent.records import ConsentRecord, fold_consents
from hub.adapters.crypto.ciphers import FieldCipher
from hub.adapters.sql.families import events_by_id
from hub.adapters.sql.principals import Principal
from hub.adapters.sql.requests import SqlAccessRequests
from hub.adapters.sql.schema import events
from hub.contract import CLASS_BY_TYPE, SENSITIVE
from hub.contract.vocabulary import EventType
from hub.domain.events import CanonicalEvent
from hub.services.ports import AuditLog

CONSENT_TYPES = (EventType.CONSENT_RECORDED, EventType.CONSENT_WITHDRAWN)
# Stored events whose decision inputs (Held) a policy point keeps in memory: events are never
# changed once stored, so a kept one is never stale; ~0.5 KB each.
HELD_CACHE_EVENTS = 50_000


@lru_cache(maxsize=512)  # event types: a few dozen
def data_fields_of(event_type: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The data fields of an event type (without subjects), and which of them are sealed.
    The hub's own events (hub/domain/internal.py) are outside the contract: item_of takes
    their fields from the event itself, and none is sealed."""
    envelope = CLASS_BY_TYPE.get(event_type)
    if envelope is None:
        return (), ()
    data_model = envelope.model_fields["data"].annotation
    fields = {n: f for n, f in data_model.model_fields.items() if n != "subjects"}  # type: ignore[union-attr]
    sealed = tuple(n for n, f in fields.items() if f.json_schema_extra == SENSITIVE)
    return tuple(fields), sealed


def item_of(event: CanonicalEvent) -> Item:
    data_fields, sealed = data_fields_of(event.type)
    data_fields = tuple(dict.fromkeys((*data_fields, *event.data)))  # derived ones, e.g. score
    return Item(
        hub_id=event.hub_id,
        event_type=event.type,
        agency_id=event.agency_id,
        subjects=tuple(s.token for s in event.subjects),
        lawful_basis=event.lawful_basis,
        consent_ref=event.consent_ref,
        data_fields=data_fields,
        sealed_fields=sealed,
    )


@dataclass(frozen=True, slots=True)
class Held:
    """What the policy point needs of a stored event to decide on it, without its content."""

    item: Item
    agency_type: str  # "hub" for the hub's own events


def held_of(event: CanonicalEvent) -> Held:
    return Held(item_of(event), event.agency_type)


def recipient_of(principal: Principal) -> Recipient:
    return Recipient(principal.principal_id, principal.role, principal.agency_id)


def _all_but_hub_id(cls: type[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """Every field of the dataclass but the first, hub_id, as a tuple: read from the class,
    so a field added to Item or Decision is compared (and copied) without anyone listing it."""
    names = [f.name for f in fields(cls)]
    assert names[0] == "hub_id", f"{cls.__name__} must name its item first"
    return attrgetter(*names[1:])


_alike = _all_but_hub_id(Decision)  # everything of a decision but the item it names
_item_kind = _all_but_hub_id(Item)  # everything decide_disclosure may read of an item


def _renamed(d: Decision, hub_id: str) -> Decision:
    """The same decision about another item (the constructor: dataclasses.replace is slower)."""
    return Decision(hub_id, *_alike(d))


def decision_record(d: Decision) -> dict[str, Any]:
    """The decision as the audit record holds it, but for the items it names (written out:
    dataclasses.asdict's deep copy was a fifth of a large family page's time)."""
    o = d.override
    return {
        "outcome": d.outcome, "view": d.view, "fields": list(d.fields),
        "basis": d.basis, "consent_ref": d.consent_ref, "consent_status": d.consent_status,
        "override": None if o is None else {
            "reason": o.reason, "justification": o.justification, "decided_by": o.decided_by,
        },
        "reason": d.reason, "rule_line": d.rule_line,
    }  # fmt: skip


def decision_records(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """The decisions grouped by kind, as the audit record holds them: each kind written once
    with the hub ids of the items decided so (``hub_ids``, in the order decided), kinds in
    the order first met. A large family's 2,000 decisions are a few dozen kinds, and writing
    each out in full made the record half a megabyte per view. audit.ig.item_decisions reads
    either shape back as one decision per item (records before this one hold ``hub_id``)."""
    kinds: dict[tuple[Any, ...], dict[str, Any]] = {}
    for d in decisions:
        key = _alike(d)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = {**decision_record(d), "hub_ids": []}
        kind["hub_ids"].append(d.hub_id)
    return list(kinds.values())


@dataclass
class Disclosure:
    views: list[dict[str, Any]]
    decisions: list[Decision]
    audit_record_id: str | None


class PolicyPoint:
    def __init__(
        self, engine: Engine, policy: SharingPolicy, cipher: FieldCipher, audit: AuditLog
    ) -> None:
        self._engine = engine
        self.policy = policy
        self._cipher = cipher
        self._audit = audit
        self.requests = SqlAccessRequests(engine)
        self._held: LRUCache[str, Held] = LRUCache(HELD_CACHE_EVENTS)
        self._held_lock = threading.Lock()

    def held(self, hub_ids: Iterable[str]) -> dict[str, Held]:
        """The decision inputs of these stored events (those missing from the store are left
        out): from memory, else parsed once from the store."""
        wanted = set(hub_ids)
        with self._held_lock:
            out = {i: h for i in wanted if (h := self._held.get(i)) is not None}
        missing = [i for i in wanted if i not in out]
        if missing:
            read = {i: held_of(e) for i, e in events_by_id(self._engine, missing).items()}
            with self._held_lock:
                for i, h in read.items():
                    self._held[i] = h
            out.update(read)
        return out

    def consents_for(self, tokens: Sequence[str]) -> dict[str, ConsentRecord]:
        """Consent records of these subjects, read from the event store itself, so that a
        withdrawal takes effect on the very next read."""
        with self._engine.connect() as conn:
            bodies = conn.execute(
                select(events.c.body).where(
                    events.c.type.in_(CONSENT_TYPES), events.c.partition_key.in_(list(tokens))
                )
            ).scalars()
            return fold_consents(CanonicalEvent.from_json(b) for b in bodies)

    def decide(
        self,
        principal: Principal,
        purpose: str,
        items: Sequence[CanonicalEvent],
        override: Override | None = None,
    ) -> list[Decision]:
        return self.decide_items(principal, purpose, [item_of(e) for e in items], override)

    def decide_items(
        self,
        principal: Principal,
        purpose: str,
        items: Sequence[Item],
        override: Override | None = None,
    ) -> list[Decision]:
        """One decision per item. decide_disclosure is pure and reads an item's hub id only
        to name it, so items alike in every other field (and in the request granted for them)
        are decided once and the decision copied with each one's hub id: a family of 2,000
        events holds a few dozen kinds."""
        tokens = sorted({t for i in items for t in i.subjects})
        consents = self.consents_for(tokens)
        granted = self.requests.granted_items(principal.principal_id)
        now = datetime.now(UTC)
        recipient = recipient_of(principal)
        alike: dict[tuple[Any, ...], Decision] = {}
        out = []
        for i in items:
            by = granted.get(i.hub_id)
            key = (_item_kind(i), by)
            d = alike.get(key)
            if d is None:
                d = alike[key] = decide_disclosure(
                    i, recipient, purpose, self.policy, consents, now, override, by
                )
            out.append(d if d.hub_id == i.hub_id else _renamed(d, i.hub_id))
        return out

    def refusal_for(self, principal: Principal, purpose: str) -> str | None:
        """The policy's reason when it refuses this reader every event type of the contract
        for this purpose (whatever the agency, consent or override), else None."""
        owns = (False, True) if principal.agency_id else (False,)
        reasons = []
        for event_type in CLASS_BY_TYPE:
            for own in owns:
                rule = self.policy.rule_for(event_type, principal.role, purpose, own)
                if rule is not None and rule.refuse is None:
                    return None
                reasons.append(rule.refuse if rule is not None else None)
        given = next((r for r in reasons if r), None)
        return given or f"the sharing policy shows role '{principal.role}' nothing for {purpose}"

    def view(self, event: CanonicalEvent, decision: Decision) -> dict[str, Any]:
        """The event as this recipient may see it: allowed fields only, sealed ones opened."""
        full = {
            "hub_id": event.hub_id,
            "type": event.type,
            "agency_id": event.agency_id,
            "time": event.time.isoformat(),
            "subjects": [{"token": s.token, "role": s.role} for s in event.subjects],
        }
        allowed = {k: v for k, v in event.data.items() if k in decision.fields}
        shown: dict[str, Any] = {k: v for k, v in full.items() if k in decision.fields}
        # sealed fields are opened only where the decision lets them through (a full view, or
        # the facts a summary opens): nothing else is decrypted
        shown["data"] = self._cipher.reveal(event.hub_id, allowed)
        shown["basis"] = decision.basis
        shown["sharing"] = decision.reason
        return shown

    def audit(
        self,
        principal: Principal,
        purpose: str,
        action: str,
        decisions: Sequence[Decision],
        subjects: Sequence[str],
        items: Sequence[str] = (),
        fields: Sequence[str] | None = None,
        outcome: str | None = None,
    ) -> str:
        """Write the disclosure to the audit log (raises AuditError: the caller refuses)."""
        shared = [d for d in decisions if d.shared]
        record = self._audit.append(
            {
                "time": datetime.now(UTC).isoformat(),
                "action": action,
                "principal_id": principal.principal_id,
                "principal_kind": principal.kind,
                "role": principal.role,
                "agency_id": principal.agency_id,
                "purpose": purpose,
                "subjects": sorted(set(subjects)),
                "fields": sorted(
                    set(fields) if fields is not None else {f for d in shared for f in d.fields}
                ),
                "lawful_bases": sorted({d.basis for d in shared if d.basis}),
                "overrides": [asdict(d.override) for d in shared if d.override],
                "decisions": decision_records(decisions),
                "items": sorted(items),
                "outcome": outcome or ("disclosed" if shared else "refused"),
            }
        )
        return record.record_id
