"""A Marac hearing recorded by a person (the chair or coordinator, on the meeting page).

It is stored as the same ``marac.case_heard`` an agency's Marac system sends, so the rules,
the agenda and the family's Marac history treat both alike. What differs is who wrote it:
the hub (agency ``hub``, agency type ``marac``: the Marac's own record, not one of the hub's
internal decisions), with the person's principal id and role in ``actor`` and ``actor_role``,
as the hub's other decisions name theirs. Its source id is the victim's token and the
meeting date, so a form sent twice is stored once and a second, different record of the
same hearing is a conflict, not a second hearing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.contract.vocabulary import EventType
from hub.domain.alert_lifecycle import alert_decision_hash
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id
from hub.domain.internal import HUB_AGENCY, HUB_BASIS

MARAC_TYPE = "marac"  # the agency type a hearing's record belongs to


def hearing_source_id(victim_token: str, meeting_date: str) -> str:
    return f"hearing:{victim_token}:{meeting_date}"


def recorded_hearing(
    victim_token: str, perpetrator_tokens: Sequence[str], hearing: dict[str, Any],
    actor: str, actor_role: str, time: datetime, now: datetime,
) -> CanonicalEvent:  # fmt: skip
    """The marac.case_heard a person records: ``hearing`` is the checked payload without
    subjects (hub.contract.payloads.MaracHearing as JSON); ``time`` the hearing's event time."""
    source_id = hearing_source_id(victim_token, str(hearing["meeting_date"]))
    subjects = (
        SubjectRef(victim_token, "victim"),
        *(SubjectRef(t, "perpetrator") for t in sorted(set(perpetrator_tokens))),
    )
    return CanonicalEvent(
        hub_id=hub_event_id(HUB_AGENCY, source_id),
        source_id=source_id,
        agency_id=HUB_AGENCY,
        agency_type=MARAC_TYPE,
        type=EventType.MARAC_CASE_HEARD,
        time=time,
        recorded_at=now,
        lawful_basis=HUB_BASIS,
        consent_ref=None,
        subjects=subjects,
        data={**hearing, "actor": actor, "actor_role": actor_role},
    )


# The record without its times, as for an alert decision: the same form sent again is the
# same record.
hearing_hash = alert_decision_hash
