"""Per-area rule settings: the packaged file, inheritance, errors naming the line, routing."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from hub.domain.areas import (
    AreaSettings,
    AreaSettingsError,
    describe,
    load_areas,
    months_before,
    victim_area,
)
from hub.entrypoints.cli import main
from tests.unit.family_builders import MONDAY, POLICE, days, fold, hearing, incident, referral

FILE = """\
[default]
dash_high_risk = 14
holidays = [2026-12-25]

[TEST-AREA-NORTH]
escalation_events = 4
agencies = ["TEST-POLICE-A"]
school_holidays = [[2026-10-26, 2026-10-30]]

[TEST-AREA-NORTH.labels]
TEST-POLICE-A = "police"

[TEST-AREA-SOUTH]
agencies = ["TEST-AE-A"]
"""


def test_the_packaged_defaults_are_domain_md_s() -> None:
    book = load_areas()
    d = book.default
    assert (d.dash_high_risk, d.medium_risk_min, d.medium_risk_max) == (14, 6, 9)
    assert (d.escalation_events, d.window_months, d.complex_case_referrals) == (3, 12, 3)
    assert d.window_days is None and d.window_words == "12 months"
    assert (d.serial_perpetrator_victims, d.first_contact_working_days) == (2, 5)
    assert date(2026, 12, 28) in d.calendar.holidays  # Boxing Day (substitute) 2026
    assert d.calendar.timezone == "Europe/London"
    assert d.calendar.school_day_start == time(8, 30)
    assert d.first_contact_services == ("community_idva",)  # the source's scope only
    # the code's defaults agree with the packaged file's
    assert AreaSettings().dash_high_risk == d.dash_high_risk
    assert (AreaSettings().window_months, AreaSettings().window_days) == (12, None)


def test_areas_inherit_what_they_leave_out() -> None:
    book = load_areas(FILE)
    north = book.get("TEST-AREA-NORTH")
    assert north.escalation_events == 4
    assert north.dash_high_risk == 14
    assert north.calendar.holidays == frozenset({date(2026, 12, 25)})
    assert north.calendar.school_holidays == ((date(2026, 10, 26), date(2026, 10, 30)),)
    assert north.label("TEST-POLICE-A") == "police"
    assert north.label("TEST-GP-A") == "TEST-GP-A"
    assert book.area_of_agency("TEST-AE-A") == "TEST-AREA-SOUTH"


def test_an_area_not_configured_gets_the_default_under_its_own_name() -> None:
    other = load_areas(FILE).get("TEST-AREA-EAST")
    assert other.name == "TEST-AREA-EAST"
    assert other.escalation_events == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[default]\ndash_high_risk = 25\n", "line 2: [default] dash_high_risk must be a whole"),
        ("[default]\n\n[A]\nwindow_days = true\n", "line 4: [A] window_days must be a whole"),
        ("[default]\ndash_high_rsk = 14\n", "line 2: [default] dash_high_rsk is not a setting"),
        ('[default]\nholidays = ["2026-02-30"]\n', "line 2: [default] holidays '2026-02-30'"),
        ('[default]\ntimezone = "Mars/Olympus"\n', "line 2: [default] timezone 'Mars/Olympus'"),
        ("[default]\nschool_holidays = [[2026-05-01, 2026-04-01]]\n", "line 2: [default] school_"),
        ("[default]\nmedium_risk_min = 10\n", "line 2: [default] medium_risk_min gives a medium"),
        ("[default]\ndash_high_risk = = 3\n", "line 2: Invalid value"),
        ("[A]\ndash_high_risk = 14\n", "there is no [default] table"),
        (
            '[default]\n[A]\nagencies = ["X"]\n[B]\nagencies = ["X"]\n',
            "line 5: [B] agencies lists X, already in [A]",
        ),
    ],
)
def test_a_bad_file_names_the_line_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(AreaSettingsError) as caught:
        load_areas(text, "rules.toml")
    assert str(caught.value).startswith("rules.toml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_agencies_are_never_inherited() -> None:
    book = load_areas('[default]\nagencies = ["TEST-GP-A"]\n[A]\n[B]\n')
    assert book.get("A").agencies == () and book.get("B").agencies == ()


def test_describe_marks_the_inherited_settings() -> None:
    book = load_areas(FILE)
    lines = describe(book.get("TEST-AREA-NORTH"), book.default)
    assert lines[0] == "[TEST-AREA-NORTH]"
    assert "escalation_events = 4" in lines
    assert "dash_high_risk = 14  # from [default]" in lines
    assert 'school_day_start = "08:30"  # from [default]' in lines


def test_victim_area_is_the_latest_hearing_s_area() -> None:
    book = load_areas(FILE)
    p = fold(
        [
            incident(MONDAY),
            hearing(MONDAY + days(10), area="TEST-AREA-SOUTH"),
            hearing(MONDAY + days(40), area="TEST-AREA-NORTH"),
        ]
    )
    assert victim_area(p, book).name == "TEST-AREA-NORTH"


def test_victim_area_without_a_hearing_follows_the_first_agency() -> None:
    book = load_areas(FILE)
    p = fold([referral(MONDAY + days(1), agency=("TEST-AE-A", "health_ae")), incident(MONDAY)])
    assert p.timeline[0].agency_id == POLICE[0]
    assert victim_area(p, book).name == "TEST-AREA-NORTH"


def test_victim_area_skips_agencies_no_area_lists() -> None:
    book = load_areas(FILE)
    gp_first = referral(MONDAY - days(5), agency=("TEST-GP-A", "gp"))
    p = fold([gp_first, referral(MONDAY, agency=("TEST-AE-A", "health_ae"))])
    assert victim_area(p, book).name == "TEST-AREA-SOUTH"


def test_victim_area_falls_back_to_the_default() -> None:
    book = load_areas(FILE)
    p = fold([referral(MONDAY, agency=("TEST-GP-A", "gp"))])
    assert victim_area(p, book).name == "default"


def test_hub_rules_show_stops_on_a_bad_file_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "areas.toml"
    rules.write_text("[default]\nwindow_days = 0\n")
    monkeypatch.setenv("HUB_RULES_FILE", str(rules))
    assert main(["rules", "show"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{rules} line 2: [default] window_days must be a whole number" in err


@pytest.mark.parametrize(
    ("day", "months", "start"),
    [
        (date(2026, 3, 2), 12, date(2025, 3, 2)),
        (date(2028, 2, 29), 12, date(2027, 2, 28)),  # no 29 February in 2027: its last day
        (date(2029, 2, 28), 12, date(2028, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 15), 13, date(2024, 12, 15)),
        (date(1, 6, 1), 12, date.min),  # the start of the calendar, never an error
    ],
)
def test_months_before_is_the_same_date_or_the_shorter_months_last_day(
    day: date, months: int, start: date
) -> None:
    assert months_before(day, months) == start


def test_an_area_counts_its_window_in_days_or_months_not_both() -> None:
    book = load_areas("[default]\nwindow_months = 12\n\n[A]\nwindow_days = 90\n\n[B]\n")
    assert book.get("A").window_days == 90 and book.get("A").window_words == "90 days"
    assert book.get("B").window_words == "12 months"
    with pytest.raises(AreaSettingsError, match="window_days and window_months are both set"):
        load_areas("[default]\nwindow_months = 12\nwindow_days = 90\n")
    months_again = load_areas("[default]\nwindow_days = 90\n\n[A]\nwindow_months = 6\n")
    assert months_again.get("A").window_words == "6 months"
