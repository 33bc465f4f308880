"""Research prompts for the Marac agenda per agency type and topic (research_prompts.toml).

The file is data: ``topics`` (the order shown), ``always`` (agency types asked about every
case), then one table per agency type with a list of questions per topic; ``[default]`` serves
agency types without a table. A bad file is refused naming the line and the problem (the
API loads the packaged file on the first agenda request; the unit tests check it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

DEFAULT = "default"
SOURCE = "hub/data/research_prompts.toml"


class ResearchPromptsError(ValueError):
    """The research prompts file cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class ResearchPrompts:
    topics: tuple[str, ...]
    always: tuple[str, ...]
    questions: Mapping[str, Mapping[str, tuple[str, ...]]]  # agency type → topic → questions

    def for_type(self, agency_type: str) -> dict[str, list[str]]:
        table = self.questions.get(agency_type) or self.questions[DEFAULT]
        return {t: list(table[t]) for t in self.topics}

    def for_case(self, involved: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One entry per agency type at the table for this case: each type involved (with its
        agency ids), then each type always asked that is not involved yet."""
        by_type: dict[str, list[str]] = {}
        for a in involved:
            by_type.setdefault(str(a["agency_type"]), []).append(str(a["agency_id"]))
        types = [*sorted(by_type), *(t for t in self.always if t not in by_type)]
        return [
            {
                "agency_type": t,
                "agency_ids": sorted(by_type.get(t, ())),
                "involved": t in by_type,
                "questions": self.for_type(t),
            }
            for t in types
        ]


def _line(text: str, table: str | None, key: str | None) -> int | None:
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*\"?([^\]\"]+)\"?\s*\]", line)
        if header:
            current = header.group(1).strip()
            if key is None and current == table:
                return n
            continue
        if current == table and key and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return n
    return None


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    return None


def load_research_prompts(
    text: str | None = None, known_types: Sequence[str] | None = None, source: str = SOURCE
) -> ResearchPrompts:
    """Parse and check the prompts (the packaged file unless text is given)."""
    if text is None:
        text = resources.files("hub.data").joinpath("research_prompts.toml").read_text("utf-8")

    def fail(table: str | None, key: str | None, problem: str) -> ResearchPromptsError:
        line = _line(text, table, key) or _line(text, table, None)
        where = f"{source} line {line}" if line else source
        return ResearchPromptsError(f"{where}: {problem}")

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ResearchPromptsError(f"{source}: {exc}") from None
    topics = _strings(raw.pop("topics", None))
    if topics is None:
        raise fail(None, "topics", 'give topics = ["mental_health", "substance_misuse"]')
    listed_always = raw.pop("always", [])
    always = () if listed_always == [] else _strings(listed_always)
    if always is None:
        raise fail(None, "always", "'always' must be a list of agency types")
    if DEFAULT not in raw:
        raise fail(None, None, "there is no [default] table; add one with questions per topic")
    known = set(known_types) if known_types is not None else None
    questions: dict[str, dict[str, tuple[str, ...]]] = {}
    for agency_type, table in raw.items():
        if not isinstance(table, dict):
            raise fail(None, agency_type, f"'{agency_type}' must be a table of topics")
        if known is not None and agency_type != DEFAULT and agency_type not in known:
            raise fail(agency_type, None, f"[{agency_type}] is not an agency type")
        extra = set(table) - set(topics)
        if extra:
            raise fail(agency_type, sorted(extra)[0], f"[{agency_type}] has unknown topics "
                       f"{sorted(extra)}; topics are {list(topics)}")  # fmt: skip
        questions[agency_type] = {}
        for topic in topics:
            listed = _strings(table.get(topic))
            if listed is None:
                raise fail(
                    agency_type, topic if topic in table else None,
                    f"[{agency_type}] {topic} must be a non-empty list of questions",
                )  # fmt: skip
            questions[agency_type][topic] = listed
    unknown = [a for a in always if known is not None and a not in known]
    if unknown:
        raise fail(None, "always", f"'always' names unknown agency types {unknown}")
    return ResearchPrompts(topics, always, questions)
