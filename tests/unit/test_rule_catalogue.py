"""Every rule is described in plain words, once, with the settings it reads; `hub rules show`
prints them with the values in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.domain.areas import AreaSettings, load_areas, settings_in_force
from hub.domain.rules import RULE_NAMES
from hub.domain.rules.catalogue import CATALOGUE, rule_info, rules_in_force
from hub.entrypoints.cli import main

FILE = """
[default]
[TEST-AREA-NORTH]
escalation_events = 4
[TEST-AREA-SOUTH]
"""


def test_every_rule_has_one_description_and_every_setting_named_exists() -> None:
    assert [r.name for r in CATALOGUE] == list(RULE_NAMES)
    in_days = AreaSettings(window_days=365)  # window_days is in force only where it is set
    known = {s.key for s in settings_in_force(in_days, in_days)}
    for r in CATALOGUE:
        assert r.title and len(r.description) > 40 and r.who_acts, r.name
        assert r.settings and set(r.settings) <= known, r.name
    assert rule_info("visible_high_risk") is CATALOGUE[0]
    assert rule_info("no_such_rule") is None


def test_an_area_shows_each_rule_with_its_own_values_and_marks_inherited_ones() -> None:
    book = load_areas(FILE)
    found = {x.rule.name: x for x in rules_in_force(book.get("TEST-AREA-NORTH"), book.default)}
    escalation = {s.key: s for s in found["potential_escalation"].settings}
    assert escalation["escalation_events"].value == "4"
    assert not escalation["escalation_events"].inherited
    assert escalation["window_months"].value == "12" and escalation["window_months"].inherited
    assert "window_days" not in escalation  # not in force: the window is in months


def test_hub_rules_show_names_every_rule_with_its_description_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "areas.toml"
    rules.write_text(FILE)
    monkeypatch.setenv("HUB_RULES_FILE", str(rules))
    assert main(["rules", "show", "--area", "TEST-AREA-NORTH"]) == 0
    out = capsys.readouterr().out
    for r in CATALOGUE:
        assert f"{r.name}: {r.title}" in out and r.description in out
    assert "settings: escalation_events = 4; window_months = 12" in out
    assert str(rules) in out  # which file the settings come from
    assert "[TEST-AREA-NORTH]" in out and "escalation_events = 4" in out
    assert "[TEST-AREA-SOUTH]" not in out and "\n[default]\n" not in out
