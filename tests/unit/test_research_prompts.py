"""Research prompts for the Marac agenda: data per agency type, checked at load."""

from __future__ import annotations

import re

import pytest

from hub.domain.agencies import load_agency_types
from hub.domain.research_prompts import ResearchPromptsError, load_research_prompts

TYPES = list(load_agency_types())
# Words DOMAIN.md asks the hub never to use about people (blaming, not describing).
BLAMING = re.compile(r"refus|no[- ]show|fail|non-?complian|did not attend|claims?\b", re.I)


def test_the_packaged_prompts_ask_every_agency_about_mental_health_and_substance_misuse() -> None:
    prompts = load_research_prompts(known_types=TYPES)
    assert prompts.topics == ("mental_health", "substance_misuse", "safety")
    for agency_type in (*TYPES, "an_agency_type_added_later"):
        questions = prompts.for_type(agency_type)
        assert set(questions) == set(prompts.topics)
        assert all(q.endswith("?") for qs in questions.values() for q in qs)


def test_a_case_s_prompts_cover_the_guidance_s_safety_questions() -> None:
    prompts = load_research_prompts(known_types=TYPES)
    involved = [{"agency_id": "TEST-POLICE-A", "agency_type": "police"},
                {"agency_id": "TEST-IDVA-A", "agency_type": "idva"}]  # fmt: skip
    asked = " ".join(
        q for row in prompts.for_case(involved) for q in row["questions"]["safety"]
    ).lower()
    for needle in ("firearm", "police", "told", "towards", "gang", "another adult",
                   "worked before"):  # fmt: skip
        assert needle in asked, needle


def test_the_packaged_prompts_use_respectful_words() -> None:
    prompts = load_research_prompts(known_types=TYPES)
    words = [q for table in prompts.questions.values() for qs in table.values() for q in qs]
    assert words and not [q for q in words if BLAMING.search(q)]
    assert not [q for q in words if re.search(r"\b(she|her|he|him|his)\b", q, re.I)]


def test_a_case_gets_prompts_for_each_agency_involved_and_those_always_asked() -> None:
    prompts = load_research_prompts(known_types=TYPES)
    involved = [
        {"agency_id": "TEST-POLICE-A", "agency_type": "police"},
        {"agency_id": "TEST-POLICE-B", "agency_type": "police"},
        {"agency_id": "TEST-GP-A", "agency_type": "gp"},
    ]
    rows = prompts.for_case(involved)
    assert [(r["agency_type"], r["involved"]) for r in rows] == [
        ("gp", True), ("police", True), ("mental_health", False), ("substance_misuse", False),
    ]  # fmt: skip
    assert rows[1]["agency_ids"] == ["TEST-POLICE-A", "TEST-POLICE-B"]
    assert rows[2]["questions"] == prompts.for_type("mental_health")


GOOD = 'topics = ["mental_health"]\n[default]\nmental_health = ["What support is in place?"]\n'


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD + '[police]\nhousing = ["Is housing safe?"]\n', 5, "unknown topics"),
        (GOOD + "[police]\nmental_health = []\n", 5, "non-empty list"),
        (GOOD + '[poilce]\nmental_health = ["Known?"]\n', 4, "not an agency type"),
        ('topics = ["mental_health"]\n[police]\nmental_health = ["Known?"]\n', None, "[default]"),
        ('topics = "mental_health"\n' + GOOD[27:], 1, "topics"),
        ('always = ["nobody"]\n' + GOOD, 1, "unknown agency types"),
        (GOOD + "[police\n", 4, "line 4"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ResearchPromptsError) as caught:
        load_research_prompts(text, TYPES, "prompts.toml")
    message = str(caught.value)
    assert words in message
    if line is not None:
        assert f"line {line}" in message
