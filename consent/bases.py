"""Lawful bases and conditions for sharing, as data (UK GDPR, DPA 2018)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Basis:
    code: str
    law: str
    label: str
    relies_on_consent: bool


BASES: dict[str, Basis] = {
    b.code: b
    for b in (
        Basis("ukgdpr-6-1-a", "UK GDPR Art 6(1)(a)", "consent", True),
        Basis("ukgdpr-6-1-c", "UK GDPR Art 6(1)(c)", "legal obligation", False),
        Basis("ukgdpr-6-1-e", "UK GDPR Art 6(1)(e)", "public task", False),
        Basis(
            "ukgdpr-6-1-ea",
            "UK GDPR Art 6(1)(ea)",
            "recognised legitimate interest: safeguarding",
            False,
        ),
        Basis("dpa2018-part3", "DPA 2018 Part 3", "law enforcement processing", False),
    )
}

# Special-category data (health) also needs an Art 9 condition. Sch 1 para 18 allows sharing
# without consent to safeguard children and individuals at risk, for one of these reasons.
SAFEGUARDING_CONDITION = "ukgdpr-9-2-g+dpa2018-sch1-para18"
OVERRIDE_REASONS: dict[str, str] = {
    "consent_cannot_be_given": "the person cannot give consent",
    "consent_cannot_reasonably_be_obtained": "consent cannot reasonably be obtained",
    "asking_would_prejudice_protection": "asking for consent would prejudice their protection",
}


def describe(code: str | None) -> str:
    basis = BASES.get(code or "")
    return f"{basis.law} {basis.label}" if basis else "no recorded basis"
