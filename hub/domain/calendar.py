"""Working days and school days, for deadlines of time rules.

Days are counted in an area's local time zone (Europe/London by default: "the next school
day" and "5 working days" mean the days people in England and Wales live by), and every
instant going in or coming out is an aware datetime, returned in UTC.

- A **working day** is Monday to Friday and not a holiday (bank holiday).
- A **school day** is a working day outside the school holidays (term breaks, inset days).
- **N working days after t**: the days after t's local date are counted; t's own day never
  counts (a referral at 16:59 on a Monday has the same deadline as one at 09:00). The
  deadline is the end of the Nth working day, i.e. local midnight starting the next day.
- **Start of the next school day after t**: the first school day's start time (default
  08:30 local) that lies strictly after t. An incident at 02:00 on a school day is due by
  08:30 that morning; one at 08:30 or later is due by 08:30 on the following school day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Beyond this many days of holidays in a row the calendar is surely misconfigured.
_SEARCH_LIMIT = 3 * 366


class CalendarError(ValueError):
    """The calendar has no working or school day within reach; its holidays need fixing."""


@dataclass(frozen=True)
class Calendar:
    """An area's days: bank holidays, school holidays (inclusive ranges), zone, school start."""

    holidays: frozenset[date] = frozenset()
    school_holidays: tuple[tuple[date, date], ...] = ()
    timezone: str = "Europe/London"
    school_day_start: time = time(8, 30)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, t: datetime) -> date:
        return _aware(t).astimezone(self.zone).date()

    def is_working_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def is_school_day(self, d: date) -> bool:
        return self.is_working_day(d) and not any(a <= d <= b for a, b in self.school_holidays)

    def at_local(self, d: date, clock: time) -> datetime:
        """The UTC instant of a local wall-clock time on a local date."""
        return datetime.combine(d, clock, tzinfo=self.zone).astimezone(UTC)


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("calendar times must carry a UTC offset")
    return t


def add_working_days(t: datetime, n: int, cal: Calendar) -> datetime:
    """The end of the nth working day after t's local date (local midnight, in UTC)."""
    if n < 0:
        raise ValueError("the number of working days must not be negative")
    day = cal.local_date(t)
    counted = 0
    for _ in range(_SEARCH_LIMIT * max(n, 1)):
        if counted == n:
            return cal.at_local(day + timedelta(days=1), time(0, 0))
        day += timedelta(days=1)
        counted += cal.is_working_day(day)
    raise CalendarError(f"no {n} working days found after {day}; check the holidays")


def working_days_between(start: datetime, end: datetime, cal: Calendar) -> int:
    """Working days after start's local date up to and including end's local date."""
    first, last = cal.local_date(start), cal.local_date(end)
    days = (last - first).days
    return sum(cal.is_working_day(first + timedelta(days=i)) for i in range(1, days + 1))


def next_school_day_start(t: datetime, cal: Calendar) -> datetime:
    """The start of the first school day that begins strictly after t (in UTC)."""
    day = cal.local_date(t)
    for _ in range(_SEARCH_LIMIT):
        if cal.is_school_day(day):
            start = cal.at_local(day, cal.school_day_start)
            if start > t:
                return start
        day += timedelta(days=1)
    raise CalendarError(f"no school day found within {_SEARCH_LIMIT} days after {t.date()}")
