"""What flows back to agencies: the items of an agency's feed (``GET /v1/feed`` and the Kafka
topic ``hub.out.<agency>.v1``), shared with the agency side (producers/feed_client.py).

One flat shape for every kind, so that an agency can import items as rows (a CSV, a table):
the fields of the other kinds are null. An item is identified by ``item_id`` (the same thing
told again, e.g. an action moving on, has the same id and a new ``version``): keep the latest
version of each id. People are named by subject token only, never by name or identifier.

Kinds (docs/feed.md says when each is sent and to whom):

- ``action``: a Marac action the agency owns, with its state; send ``marac.action.updated``
  with ``action_id`` to move it on;
- ``hearing``: a Marac hearing of a case the agency is involved in ("flag your file");
- ``listed_for_marac``: a case with children referred to Marac (children's social care);
- ``notice``: an alert addressed to the agency: ``children_present`` (Operation Encompass),
  ``first_contact_overdue``, ``action_overdue``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

FEED_SCHEMA_VERSION = "v1"
# The CloudEvents type of a feed item on Kafka: hub.feed.<kind>.v1
FEED_EVENT_TYPE = "hub.feed.{kind}." + FEED_SCHEMA_VERSION


def egress_topic(agency_id: str) -> str:
    """The Kafka topic an agency's feed is published to (before any deployment prefix)."""
    return f"hub.out.{agency_id}.{FEED_SCHEMA_VERSION}"


Kind = Literal["action", "hearing", "listed_for_marac", "notice"]


class FeedPerson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str
    role: str


class FeedItem(BaseModel):
    """One thing an agency must act on, as the sharing policy lets it see it."""

    model_config = ConfigDict(extra="forbid")

    item_id: str  # action:<action id> | hearing:<hub id> | listed:<hub id> | notice:<alert id>
    kind: Kind
    version: str  # changes whenever the item is told again with something new
    family_id: str
    why: str  # why this agency is told: owner, involved, present, childrens_social_care, ...
    time: datetime | None = None  # when the thing happened (event time), where shown
    people: list[FeedPerson] = []  # subject tokens and roles, where shown
    source_events: list[str] = []  # hub ids of the stored events it is built from
    # an action (kind action), and the hearing it was agreed at
    action_id: str | None = None
    hearing_id: str | None = None
    meeting_date: str | None = None
    area: str | None = None
    action: str | None = None  # its type, from the guidance's list
    text: str | None = None
    due_date: str | None = None
    owner_agency: str | None = None
    state: str | None = None  # open | in_progress | done | not_possible
    reason: str | None = None  # why not possible
    # a hearing
    repeat: bool | None = None
    risk_discussed: str | None = None
    agencies_present: list[str] | None = None
    your_actions: list[str] | None = None  # ids of the hearing's actions this agency owns
    # a referral (listed_for_marac; the referral behind a first-contact notice)
    referred_to: str | None = None
    # a notice
    rule: str | None = None
    notice: str | None = None  # what it is about, in plain words
    recommended_action: str | None = None
    due: datetime | None = None


class FeedPage(BaseModel):
    items: list[FeedItem]
    cursor: str  # pass as ?cursor= for the next page; keep it to resume after a restart
    more: bool  # another page is ready now
    withheld: int  # items addressed to the agency that the sharing policy does not let it see
    audit_record_id: str | None
