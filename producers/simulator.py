"""Synthetic agencies sending events about obviously fake families (demo and benchmarks).

Every person is fictional: names like "Alex Example", NHS numbers in the 999 range that the
NHS reserves for testing, PNC ids starting "TEST".
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = ["Alex", "Sam", "Jo", "Charlie", "Robin", "Ash", "Kit", "Max", "Pat", "Lee"]
LAST = ["Example", "Sample", "Testperson", "Placeholder", "Fakename", "Demo"]

DEMO_AGENCIES = {
    "TEST-POLICE-A": "police",
    "TEST-AE-A": "health_ae",
    "TEST-IDVA-A": "idva",
}


@dataclass(frozen=True)
class FakePerson:
    name: str
    nhs_number: str
    pnc_id: str | None

    def subject(self, role: str, with_pnc: bool = False) -> dict[str, Any]:
        ids: dict[str, str] = {"nhs_number": self.nhs_number}
        if with_pnc and self.pnc_id:
            ids["pnc_id"] = self.pnc_id
        return {"role": role, "name": self.name, "identifiers": ids}


@dataclass(frozen=True)
class FakeFamily:
    victim: FakePerson
    perpetrator: FakePerson
    children: tuple[FakePerson, ...]


def _person(rng: random.Random, n: int, offender: bool = False) -> FakePerson:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    pnc = f"TEST{n:08d}" if offender else None
    return FakePerson(name, f"999{n:07d}", pnc)


def make_families(count: int, seed: int = 7, first: int = 0) -> list[FakeFamily]:
    """count fake families; people are numbered from first (NHS numbers 999 + 7 digits)."""
    rng = random.Random(seed)
    families, n = [], first
    for _ in range(count):
        victim, perp = _person(rng, n), _person(rng, n + 1, offender=True)
        kids = tuple(_person(rng, n + 2 + k) for k in range(rng.choice([0, 0, 1, 2])))
        n += 2 + len(kids)
        families.append(FakeFamily(victim, perp, kids))
    return families


def dash_answers(rng: random.Random, yes: int) -> list[str]:
    answers = ["yes"] * yes + [rng.choice(["no", "not_known"]) for _ in range(24 - yes)]
    rng.shuffle(answers)
    return answers


def envelope(event_type: str, time: datetime, data: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "lawfulbasis": "dpa2018-part3" if event_type == "police.incident" else "ukgdpr-6-1-e",
        "data": data,
    }


def police_incident(rng: random.Random, f: FakeFamily, t: datetime) -> dict[str, Any]:
    subjects = [f.victim.subject("victim"), f.perpetrator.subject("perpetrator", with_pnc=True)]
    subjects += [c.subject("child") for c in f.children]
    data = {
        "subjects": subjects,
        "abuse_types": rng.sample(["physical", "coercive_control", "harassment_stalking"], 2),
        "injuries": rng.random() < 0.4,
        "children_present": bool(f.children) and rng.random() < 0.6,
        "arrest": rng.random() < 0.3,
    }
    return envelope("police.incident", t, data, "urn:hub:agency:TEST-POLICE-A")


def dash(rng: random.Random, f: FakeFamily, t: datetime, yes: int) -> dict[str, Any]:
    data = {
        "subjects": [f.victim.subject("victim"), f.perpetrator.subject("perpetrator")],
        "answers": dash_answers(rng, yes),
        "assessor_role": "idva",
    }
    return envelope("risk.dash", t, data, "urn:hub:agency:TEST-IDVA-A")


def referral(f: FakeFamily, t: datetime, to: str) -> dict[str, Any]:
    data = {"subjects": [f.victim.subject("victim")], "to": to, "consent_status": "given"}
    return envelope("referral.made", t, data, "urn:hub:agency:TEST-AE-A")


# Dash "yes" counts dealt to families in turn: standard (0-5), medium (6-13) and high (14+)
# bands all appear, high in three of eight families.
DASH_YES_CYCLE = (7, 14, 3, 9, 16, 5, 11, 19)


def family_story(
    rng: random.Random, f: FakeFamily, start: datetime, dash_yes: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One family's events as (agency name, envelope), in event-time order."""
    t = start
    for _ in range(rng.randint(1, 3)):
        t += timedelta(days=rng.randint(5, 60))
        yield "TEST-POLICE-A", police_incident(rng, f, t)
    if rng.random() < 0.5:
        t += timedelta(hours=rng.randint(1, 48))
        yield "TEST-AE-A", referral(f, t, "idva")
    t += timedelta(days=rng.randint(1, 7))
    yield "TEST-IDVA-A", dash(rng, f, t, dash_yes)


def demo_stream(families: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """Every family's story, interleaved as the agencies would send them."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    stories = [
        list(family_story(rng, f, start, DASH_YES_CYCLE[i % len(DASH_YES_CYCLE)]))
        for i, f in enumerate(make_families(families, seed))
    ]
    out: list[tuple[str, dict[str, Any]]] = []
    while any(stories):
        for story in stories:
            if story:
                out.append(story.pop(0))
    return out
