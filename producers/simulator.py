"""Synthetic agencies sending events about obviously fake families (demo, benchmarks, tests).

Every person is fictional: names like "Alex Example", NHS numbers in the 999 range that the
NHS reserves for testing, PNC ids starting "TEST". The proportions (``Mix``) and why they were
chosen are in docs/simulator.md. Time is passed in: stories end before ``now``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = ["Alex", "Sam", "Jo", "Charlie", "Robin", "Ash", "Kit", "Max", "Pat", "Lee"]
LAST = ["Example", "Sample", "Testperson", "Placeholder", "Fakename", "Demo"]

POLICE, AE, IDVA, GP = "TEST-POLICE-A", "TEST-AE-A", "TEST-IDVA-A", "TEST-GP-A"
CSC, MH, SMS, MARAC = "TEST-CSC-A", "TEST-MH-A", "TEST-SMS-A", "TEST-MARAC-A"
DEMO_AGENCIES = {
    POLICE: "police",
    AE: "health_ae",
    IDVA: "idva",
    GP: "gp",
    CSC: "childrens_social_care",
    MH: "mental_health",
    SMS: "substance_misuse",
    MARAC: "marac",
}
LAWFUL_BASIS = {POLICE: "dpa2018-part3"}  # the others share under public task


@dataclass(frozen=True)
class Mix:
    """How often each circumstance occurs; docs/simulator.md gives the reasons."""

    children: float = 0.6
    second_perpetrator: float = 0.15
    serial_perpetrator: float = 0.05
    incidents: tuple[float, ...] = (0.45, 0.30, 0.15, 0.10)  # 1, 2, 3 or 4 police incidents
    # Dash bands dealt in turn (deterministic, so any two families include a high-risk one)
    bands: tuple[str, ...] = (
        "medium",
        "high",
        "standard",
        "medium",
        "standard",
        "high",
        "standard",
        "medium",
    )
    victim_mental_health: float = 0.40
    victim_substance: float = 0.15
    perpetrator_substance: float = 0.45
    ae_attendance: dict[str, float] = field(
        default_factory=lambda: {"standard": 0.15, "medium": 0.30, "high": 0.50}
    )
    pregnant: float = 0.06
    not_able_to_engage: float = 0.25
    repeat_after_marac: float = 0.35


DASH_YES = {"standard": (0, 5), "medium": (6, 13), "high": (14, 22)}


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
    previous_perpetrator: FakePerson | None = None
    band: str = "medium"
    victim_needs: tuple[str, ...] = ()
    perpetrator_needs: tuple[str, ...] = ()


def _person(rng: random.Random, n: int, offender: bool = False) -> FakePerson:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return FakePerson(name, f"999{n:07d}", f"TEST{n:08d}" if offender else None)


def _needs(rng: random.Random, mix: Mix) -> tuple[tuple[str, ...], tuple[str, ...]]:
    victim = []
    if rng.random() < mix.victim_mental_health:
        victim.append("mental_health")
    if rng.random() < mix.victim_substance:
        victim.append(rng.choice(["alcohol_misuse", "drug_misuse"]))
    perp = (
        [rng.choice(["alcohol_misuse", "drug_misuse"])]
        if rng.random() < mix.perpetrator_substance
        else []
    )
    return tuple(victim), tuple(perp)


def make_families(
    count: int, seed: int = 7, first: int = 0, mix: Mix | None = None
) -> list[FakeFamily]:
    """count fake families; people are numbered from first (NHS numbers 999 + 7 digits)."""
    mix = mix or Mix()
    rng = random.Random(seed)
    families: list[FakeFamily] = []
    n = first
    for i in range(count):
        victim, perp = _person(rng, n), _person(rng, n + 1, offender=True)
        n += 2
        if families and rng.random() < mix.serial_perpetrator:
            perp = rng.choice(families).perpetrator  # one abuser, victims in two families
        previous = None
        if rng.random() < mix.second_perpetrator:
            previous, n = _person(rng, n, offender=True), n + 1
        kids: tuple[FakePerson, ...] = ()
        if rng.random() < mix.children:
            kids = tuple(_person(rng, n + k) for k in range(rng.choice([1, 1, 2, 3])))
            n += len(kids)
        victim_needs, perp_needs = _needs(rng, mix)
        band = mix.bands[i % len(mix.bands)]
        families.append(FakeFamily(victim, perp, kids, previous, band, victim_needs, perp_needs))
    return families


def dash_answers(rng: random.Random, yes: int) -> list[str]:
    answers = ["yes"] * yes + [rng.choice(["no", "not_known"]) for _ in range(24 - yes)]
    rng.shuffle(answers)
    return answers


def envelope(event_type: str, time: datetime, data: dict[str, Any], source: str) -> dict[str, Any]:
    agency = source.rsplit(":", 1)[-1]
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "lawfulbasis": LAWFUL_BASIS.get(agency, "ukgdpr-6-1-e"),
        "data": data,
    }


def _event(
    agency: str, event_type: str, t: datetime, data: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    return agency, envelope(event_type, t, data, f"urn:hub:agency:{agency}")


def police_incident(
    rng: random.Random,
    f: FakeFamily,
    t: datetime,
    perp: FakePerson | None = None,
    breach: bool = False,
) -> dict[str, Any]:
    subjects = [f.victim.subject("victim"), (perp or f.perpetrator).subject("perpetrator", True)]
    present = bool(f.children) and rng.random() < 0.6
    subjects += [c.subject("child") for c in f.children]
    types = ["physical", "coercive_control", "harassment_stalking", "sexual", "economic"]
    data = {
        "subjects": subjects,
        "abuse_types": sorted(set(rng.choices(types, weights=[5, 4, 3, 1, 1], k=2))),
        "injuries": rng.random() < {"high": 0.6, "medium": 0.35}.get(f.band, 0.15),
        "children_present": present,
        "children_ages": sorted(rng.randint(0, 15) for _ in f.children) if present else [],
        "weapon": "weapon" if f.band == "high" and rng.random() < 0.2 else "none",
        "arrest": rng.random() < 0.3,
        "orders": ["bail_conditions"] if breach else [],
        "breach_of_order": breach,
    }
    return envelope("police.incident", t, data, f"urn:hub:agency:{POLICE}")


def dash(rng: random.Random, f: FakeFamily, t: datetime, yes: int) -> dict[str, Any]:
    data = {
        "subjects": [f.victim.subject("victim"), f.perpetrator.subject("perpetrator")],
        "answers": dash_answers(rng, yes),
        "assessor_role": "idva",
        "victim_view": "high" if yes >= 14 else rng.choice(["medium", "standard", "not_known"]),
    }
    return envelope("risk.dash", t, data, f"urn:hub:agency:{IDVA}")


def referral(f: FakeFamily, t: datetime, to: str, agency: str = AE) -> dict[str, Any]:
    data = {"subjects": [f.victim.subject("victim")], "to": to, "consent_status": "given"}
    return envelope("referral.made", t, data, f"urn:hub:agency:{agency}")


def family_story(
    rng: random.Random,
    f: FakeFamily,
    start: datetime,
    mix: Mix | None = None,
    dash_yes: int | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One family's events as (agency name, envelope), in the order agencies send them: event
    time order, except that a previous partner's history arrives late, as it does in life."""
    mix = mix or Mix()
    t = start + timedelta(days=rng.randint(0, 30))
    victim, perp = f.victim.subject("victim"), f.perpetrator.subject("perpetrator", True)
    partners = {"subjects": [victim, perp], "relation": "partner"}
    yield _event(POLICE, "relationship.declared", t, partners)
    first = police_incident(rng, f, t)
    yield POLICE, first
    if first["data"]["children_present"]:
        yield POLICE, referral(f, t + timedelta(hours=2), "childrens_services", POLICE)
    if rng.random() < mix.ae_attendance[f.band]:
        yield from _attendance(rng, f, t + timedelta(hours=rng.randint(1, 20)), mix)
    t += timedelta(days=rng.randint(1, 7))
    yes = dash_yes if dash_yes is not None else rng.randint(*DASH_YES[f.band])
    yield IDVA, dash(rng, f, t, yes)
    yield from _support(rng, f, t, yes, mix)
    for child in f.children:
        parent = {"subjects": [victim, child.subject("child")], "relation": "parent_child"}
        yield _event(CSC, "relationship.declared", t, parent)
    incidents = rng.choices(range(1, len(mix.incidents) + 1), weights=mix.incidents)[0]
    for n in range(1, incidents):
        t += timedelta(days=rng.randint(5, 45))
        yield POLICE, police_incident(rng, f, t, breach=n > 1 and rng.random() < 0.3)
    for need in f.victim_needs:
        needs = {"subjects": [victim], "needs": [need]}
        yield _event(MH if need == "mental_health" else GP, "needs.identified", t, needs)
    if f.perpetrator_needs:
        needs = {"subjects": [perp], "needs": list(f.perpetrator_needs)}
        yield _event(SMS, "needs.identified", t, needs)
    if f.previous_perpetrator:
        earlier = start - timedelta(days=rng.randint(30, 300))
        prev = f.previous_perpetrator.subject("perpetrator", True)
        yield _event(
            POLICE,
            "relationship.declared",
            earlier,
            {"subjects": [victim, prev], "relation": "ex_partner"},
        )
        yield POLICE, police_incident(rng, f, earlier, perp=f.previous_perpetrator)


def _attendance(
    rng: random.Random, f: FakeFamily, t: datetime, mix: Mix
) -> Iterator[tuple[str, dict[str, Any]]]:
    asked = rng.random() < 0.7
    data = {
        "subjects": [f.victim.subject("victim")],
        "setting": "ae",
        "injury": True,
        "da_question_asked": asked,
        "da_disclosed": ("yes" if rng.random() < 0.5 else "no") if asked else "not_asked",
        "pregnant": rng.random() < mix.pregnant,
        "substance_use": bool(set(f.victim_needs) & {"alcohol_misuse", "drug_misuse"}),
    }
    yield _event(AE, "health.attendance", t, data)
    if data["da_disclosed"] == "yes":
        yield AE, referral(f, t + timedelta(hours=1), "idva")


def _support(
    rng: random.Random, f: FakeFamily, t: datetime, yes: int, mix: Mix
) -> Iterator[tuple[str, dict[str, Any]]]:
    """What follows a Dash: Idva contact, and for high risk a Marac referral and hearing."""
    victim = f.victim.subject("victim")
    engaged = rng.random() >= mix.not_able_to_engage
    outcome = "contact_made" if engaged else "not_able_to_engage"
    yield _event(
        IDVA,
        "contact.attempted",
        t + timedelta(days=1),
        {"subjects": [victim], "method": "phone", "outcome": outcome, "safe_to_contact": True},
    )
    if yes < 14:
        to = "community_idva" if yes >= 6 else "idva"
        yield IDVA, referral(f, t + timedelta(days=1), to, IDVA)
        return
    yield IDVA, referral(f, t + timedelta(days=1), "marac", IDVA)
    heard = t + timedelta(days=rng.randint(7, 28))
    actions = [
        {"action": "spoc", "owner_agency": IDVA},
        {"action": "flag_files", "owner_agency": POLICE},
    ]
    yield _event(
        MARAC,
        "marac.case_heard",
        heard,
        {
            "subjects": [victim],
            "meeting_date": heard.date().isoformat(),
            "area": "TEST-AREA",
            "actions": actions,
        },
    )
    if rng.random() < mix.repeat_after_marac:
        yield POLICE, police_incident(rng, f, heard + timedelta(days=rng.randint(10, 90)))


def demo_stream(
    families: int,
    seed: int = 7,
    now: datetime | None = None,
    mix: Mix | None = None,
    showcase: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """Every family's story, interleaved as the agencies would send them; all before now.
    With showcase, the showcase family's story comes first (``showcase_story``)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    start = now - timedelta(days=365)  # stories last under ~280 days
    stories = [
        list(family_story(rng, f, start, mix)) for f in make_families(families, seed, mix=mix)
    ]
    if showcase:
        stories.insert(0, list(showcase_story(start)))
    out: list[tuple[str, dict[str, Any]]] = []
    while any(stories):
        for story in stories:
            if story:
                out.append(story.pop(0))
    return out


# People of the showcase family are numbered apart from make_families' (which count from 0).
SHOWCASE_FIRST = 9_000_000


def showcase_family() -> FakeFamily:
    """The demo's fixed family: a victim, her partner, a previous partner and two children."""
    n = SHOWCASE_FIRST
    return FakeFamily(
        victim=FakePerson("Alex Showcase", f"999{n:07d}", None),
        perpetrator=FakePerson("Sam Showcase", f"999{n + 1:07d}", f"TEST{n + 1:08d}"),
        children=(
            FakePerson("Kit Showcase", f"999{n + 2:07d}", None),
            FakePerson("Jo Showcase", f"999{n + 3:07d}", None),
        ),
        previous_perpetrator=FakePerson("Robin Example", f"999{n + 4:07d}", f"TEST{n + 4:08d}"),
        band="high",
        victim_needs=("mental_health",),
        perpetrator_needs=("alcohol_misuse",),
    )


def showcase_story(start: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """A story that shows every part of the chair's family page: five people on the genogram
    (victim, partner, previous partner, two children), a high-risk Dash and a Marac hearing, a
    police incident after the hearing (a repeat), then a later Dash scoring lower with nothing
    new to explain it (the downgrade the page warns about). Fixed, so the demo always has it."""
    rng = random.Random(0)
    f = showcase_family()
    victim, perp = f.victim.subject("victim"), f.perpetrator.subject("perpetrator", True)
    prev = f.previous_perpetrator.subject("perpetrator", True)  # type: ignore[union-attr]
    earlier = start - timedelta(days=200)
    yield _event(POLICE, "relationship.declared", earlier,
                 {"subjects": [victim, prev], "relation": "ex_partner"})  # fmt: skip
    yield POLICE, police_incident(rng, f, earlier, perp=f.previous_perpetrator)
    t = start + timedelta(days=3)
    yield _event(
        POLICE, "relationship.declared", t, {"subjects": [victim, perp], "relation": "partner"}
    )
    for child in f.children:
        parent = {"subjects": [victim, child.subject("child")], "relation": "parent_child"}
        yield _event(CSC, "relationship.declared", t, parent)
    yield POLICE, police_incident(rng, f, t + timedelta(hours=1))
    yield _event(MH, "needs.identified", t, {"subjects": [victim], "needs": ["mental_health"]})
    yield _event(SMS, "needs.identified", t, {"subjects": [perp], "needs": ["alcohol_misuse"]})
    t += timedelta(days=2)
    yield IDVA, dash(rng, f, t, 17)
    yield from _support(rng, f, t, 17, Mix(repeat_after_marac=0.0))
    heard = t + timedelta(days=28)  # after _support's hearing, at most 28 days on
    yield POLICE, police_incident(rng, f, heard + timedelta(days=14))  # a repeat after Marac
    yield IDVA, dash(rng, f, heard + timedelta(days=40), 8)  # lower, with nothing new
