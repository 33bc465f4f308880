"""Working days and school days: weekends, bank holidays, school holidays, London time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.calendar import (
    Calendar,
    CalendarError,
    add_working_days,
    next_school_day_start,
    working_days_between,
)

EASTER_2026 = frozenset({date(2026, 4, 3), date(2026, 4, 6)})  # Good Friday, Easter Monday
CAL = Calendar(
    holidays=EASTER_2026,
    school_holidays=((date(2026, 3, 30), date(2026, 4, 10)),),
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_five_working_days_from_a_monday_end_on_the_next_monday() -> None:
    # Tue, Wed, Thu, Fri, (weekend), Mon: due at the end of Monday 9 March (GMT: UTC = local)
    assert add_working_days(utc(2026, 3, 2, 10), 5, CAL) == utc(2026, 3, 10, 0)


def test_the_referral_day_itself_never_counts() -> None:
    early, late = utc(2026, 3, 2, 0, 1), utc(2026, 3, 2, 23, 59)
    assert add_working_days(early, 5, CAL) == add_working_days(late, 5, CAL)


def test_five_working_days_across_a_weekend() -> None:
    # Thursday: Fri, Mon, Tue, Wed, Thu → the end of Thursday 12 March
    assert add_working_days(utc(2026, 3, 5, 15), 5, CAL) == utc(2026, 3, 13, 0)


def test_five_working_days_across_a_weekend_and_bank_holidays() -> None:
    # Wed 1 April: Thu 2 (1), Good Friday, weekend, Easter Monday, Tue 7 (2) … Fri 10 (5);
    # the end of Friday 10 April in London (BST) is 23:00 UTC
    assert add_working_days(utc(2026, 4, 1, 9), 5, CAL) == utc(2026, 4, 10, 23)
    without_holidays = Calendar()
    assert add_working_days(utc(2026, 4, 1, 9), 5, without_holidays) == utc(2026, 4, 8, 23)


def test_a_saturday_referral_counts_from_monday() -> None:
    assert add_working_days(utc(2026, 3, 7, 12), 1, CAL) == utc(2026, 3, 10, 0)


def test_days_follow_london_not_utc() -> None:
    # 23:30 UTC on Friday 5 June is 00:30 on Saturday in London: the weekend has begun
    saturday_in_london = utc(2026, 6, 5, 23, 30)
    assert add_working_days(saturday_in_london, 1, Calendar()) == utc(2026, 6, 8, 23)


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
    ),
    n=st.integers(0, 30),
)
def test_the_deadline_is_a_local_midnight_exactly_n_working_days_on(
    start: datetime, n: int
) -> None:
    due = add_working_days(start, n, CAL)
    local = due.astimezone(CAL.zone)
    assert local.time() == time(0, 0)
    assert working_days_between(start, due - timedelta(microseconds=1), CAL) == n
    if n:  # the day before the deadline ends is a working day (the nth)
        assert CAL.is_working_day(local.date() - timedelta(days=1))


def test_next_school_day_starts_at_half_past_eight() -> None:
    # Tuesday 02:00 → that morning; Tuesday 08:30 exactly → Wednesday
    assert next_school_day_start(utc(2026, 3, 3, 2), CAL) == utc(2026, 3, 3, 8, 30)
    assert next_school_day_start(utc(2026, 3, 3, 8, 30), CAL) == utc(2026, 3, 4, 8, 30)


def test_next_school_day_skips_the_weekend() -> None:
    assert next_school_day_start(utc(2026, 3, 6, 20), CAL) == utc(2026, 3, 9, 8, 30)


def test_next_school_day_skips_the_school_holidays_and_bank_holidays() -> None:
    # The Easter holidays run 30 March to 10 April; school is back Monday 13 April (BST)
    assert next_school_day_start(utc(2026, 3, 27, 18), CAL) == utc(2026, 4, 13, 7, 30)
    bank_holiday_only = Calendar(holidays=EASTER_2026)
    assert next_school_day_start(utc(2026, 4, 2, 18), bank_holiday_only) == utc(2026, 4, 7, 7, 30)


def test_the_school_day_start_is_a_setting() -> None:
    nine = Calendar(school_day_start=time(9, 0))
    assert next_school_day_start(utc(2026, 3, 3, 8, 45), nine) == utc(2026, 3, 3, 9, 0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        add_working_days(datetime(2026, 3, 2, 10), 5, CAL)


def test_a_calendar_with_no_school_days_says_so() -> None:
    closed = Calendar(school_holidays=((date(2026, 1, 1), date(2030, 1, 1)),))
    with pytest.raises(CalendarError, match="no school day"):
        next_school_day_start(utc(2026, 3, 3, 2), closed)
