"""Per-Marac-area rule settings, loaded from TOML (hub/data/areas.toml, or HUB_RULES_FILE).

Each top-level table is a Marac area named as agencies name it in ``marac.case_heard``;
``[default]`` holds every setting and the other areas inherit what they leave out, except
``agencies`` (an agency belongs to one area). An area's ``labels`` (agency id → short label
for alert reasons) are merged over the default's.

Which area a family's alerts go to (``victim_area``): the area of the latest Marac hearing of
any victim in the family; else the area listing the agency of the earliest event about a
victim (skipping events from agencies no area lists, such as national services); else
``default``. An area heard at Marac but not configured gets the default
settings under its own name, so its alerts still reach its chair.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.contract.vocabulary import EventType
from hub.domain.calendar import Calendar
from hub.domain.family import FamilyProjection, victims

DEFAULT = "default"
# Referrals to these services expect a first contact attempt within the working days. The
# source (the Connect design) sets the five-day standard for the medium-risk community Idva
# service only; an area that holds other services to it lists them (hub/data/areas.toml).
CONTACT_SERVICES = ("community_idva",)
# The complex-case rule counts referrals into the Idva / complex-case service (Worth Services),
# not referrals to any destination.
COMPLEX_CASE_SERVICES = ("idva", "community_idva", "complex_needs")


class AreaSettingsError(ValueError):
    """The rules file cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class AreaSettings:
    """Thresholds and windows of the rules in one Marac area; defaults as in DOMAIN.md."""

    name: str = DEFAULT
    dash_high_risk: int = 14  # Dash "yes" answers at or above which risk is visibly high
    medium_risk_min: int = 6  # Dash band routed to community Idva: min..max inclusive
    medium_risk_max: int = 9
    escalation_events: int = 3  # domestic-abuse events in the window → consider Marac
    # The window of the rules and reports: window_months calendar months back to the same date
    # (12: "12 months", 29 February included), or, when an area sets it, window_days days.
    window_months: int = 12
    window_days: int | None = None
    complex_case_referrals: int = 3  # referrals into the service in the window, with …
    # … this many contact attempts that did not reach the person: "poor engagement" is local
    # practice, not a figure from the sources
    poor_engagement_attempts: int = 2
    complex_case_services: tuple[str, ...] = COMPLEX_CASE_SERVICES  # "into the service"
    serial_perpetrator_victims: int = 2  # victims linked to one perpetrator → DVDS
    first_contact_working_days: int = 5
    first_contact_services: tuple[str, ...] = CONTACT_SERVICES
    agencies: tuple[str, ...] = ()  # agency ids belonging to this area
    # Kafka-direct events from this area's agencies may arrive unsealed (identifiers in clear on
    # hub.ingress.raw). Off by default: hub-send and KafkaHubProducer seal to the ingress key.
    kafka_plaintext: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # agency id → label in reasons
    calendar: Calendar = field(default_factory=Calendar)

    def label(self, agency_id: str) -> str:
        return self.labels.get(agency_id, agency_id)

    def window_start(self, day: date) -> date:
        """The first local date inside the window that ends on day (both ends inclusive).
        In months: the same date window_months earlier, or that month's last day when it has
        no such date (a year back from 29 February 2028 is 28 February 2027)."""
        if self.window_days is not None:
            return date.fromordinal(max(1, day.toordinal() - self.window_days))
        return months_before(day, self.window_months)

    def in_window(self, earlier: date, later: date) -> bool:
        """earlier is no later than later and inside the window ending on later."""
        return self.window_start(later) <= earlier <= later

    @property
    def window_words(self) -> str:
        if self.window_days is not None:
            return f"{self.window_days} days"
        return "12 months" if self.window_months == 12 else f"{self.window_months} months"


def months_before(day: date, months: int) -> date:
    """The same date `months` calendar months earlier, clamped to the end of a shorter month
    (and to the first day of the calendar, for a date within `months` of it)."""
    index = day.year * 12 + day.month - 1 - months
    if index < 12:  # before year 1
        return date.min
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


@dataclass(frozen=True)
class AreaBook:
    """Every configured area; an area not configured gets the default settings."""

    default: AreaSettings = field(default_factory=AreaSettings)
    areas: Mapping[str, AreaSettings] = field(default_factory=dict)

    def get(self, name: str) -> AreaSettings:
        if name == DEFAULT:
            return self.default
        return self.areas.get(name) or replace(self.default, name=name)

    def area_of_agency(self, agency_id: str) -> str | None:
        return next((n for n, a in sorted(self.areas.items()) if agency_id in a.agencies), None)

    def names(self) -> list[str]:
        return [DEFAULT, *sorted(self.areas)]


def victim_area(p: FamilyProjection, book: AreaBook) -> AreaSettings:
    """The area the family's alerts are routed to (see the module docstring)."""
    vs = victims(p)
    hearings = [
        e for e in p.timeline if e.type == EventType.MARAC_CASE_HEARD and e.names_any(vs, "victim")
    ]
    if hearings and hearings[-1].facts.get("area"):
        return book.get(str(hearings[-1].facts["area"]))
    for e in p.timeline:
        if e.agency_type != "hub" and e.names_any(vs, "victim"):
            area = book.area_of_agency(e.agency_id)
            if area is not None:
                return book.get(area)
    return book.default


# --- loading ------------------------------------------------------------------------------


def _int_in(lo: int, hi: int) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"must be a whole number from {lo} to {hi} (found {v!r})")
        return v

    return check


def _strings(v: Any) -> Any:
    if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
        raise ValueError('must be a list of names, e.g. ["TEST-POLICE-A"]')
    return tuple(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def _day(v: Any) -> date:
    if isinstance(v, date) and not hasattr(v, "hour"):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"{v!r} is not a date; write 2026-12-25") from None


def _days(v: Any) -> Any:
    if not isinstance(v, list):
        raise ValueError("must be a list of dates, e.g. [2026-12-25, 2026-12-28]")
    return frozenset(_day(d) for d in v)


def _ranges(v: Any) -> Any:
    if not isinstance(v, list) or not all(isinstance(r, list) and len(r) == 2 for r in v):
        raise ValueError(
            "must be a list of [first, last] date pairs, e.g. [[2026-10-26, 2026-10-30]]"
        )
    out = tuple((_day(a), _day(b)) for a, b in v)
    for a, b in out:
        if b < a:
            raise ValueError(f"the range [{a}, {b}] ends before it starts")
    return out


def _zone(v: Any) -> Any:
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not a time zone; e.g. Europe/London") from None
    return str(v)


def _start(v: Any) -> Any:
    if isinstance(v, time):
        return v
    if not isinstance(v, str) or not re.fullmatch(r"\d\d:\d\d", v):
        raise ValueError('must be a local time of day, e.g. "08:30"')
    try:
        return time.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a time of day") from None


def _labels(v: Any) -> Any:
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise ValueError('must be a table of agency id = "label"')
    return dict(v)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "dash_high_risk": _int_in(1, 24),
    "medium_risk_min": _int_in(0, 24),
    "medium_risk_max": _int_in(0, 24),
    "escalation_events": _int_in(1, 100),
    "window_months": _int_in(1, 120),
    "window_days": _int_in(1, 3660),
    "complex_case_referrals": _int_in(1, 100),
    "poor_engagement_attempts": _int_in(1, 100),
    "serial_perpetrator_victims": _int_in(2, 100),
    "first_contact_working_days": _int_in(1, 60),
    "first_contact_services": _strings,
    "complex_case_services": _strings,
    "agencies": _strings,
    "kafka_plaintext": _bool,
    "labels": _labels,
    "holidays": _days,
    "school_holidays": _ranges,
    "timezone": _zone,
    "school_day_start": _start,
}
_CALENDAR_KEYS = {f.name for f in fields(Calendar)} | {"holidays"}


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """The line of `key` in `[table]` (or of the table header when key is None; table ""
    is the top level, before any header)."""
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]\[]+?)\s*\]\s*(#.*)?$", line)
        if header:
            current = header.group(1).strip().strip('"')
            if current == (table if key is None else f"{table}.{key}"):
                return n
            continue
        if key and current == table and re.match(rf'\s*"?{re.escape(key)}"?\s*=', line):
            return n
    return None


def _area(name: str, raw: Any, base: AreaSettings, text: str, source: str) -> AreaSettings:
    def fail(key: str | None, problem: str) -> AreaSettingsError:
        line = _line_of(text, name, key) or _line_of(text, name, None) or _line_of(text, "", name)
        where = f"{source} line {line}" if line else source
        what = f"[{name}] {key}" if key else f"[{name}]"
        return AreaSettingsError(f"{where}: {what} {problem}")

    if not isinstance(raw, dict):
        raise fail(None, "is not a table: settings go under [default] or [AREA NAME]")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        check = _CHECKS.get(key)
        if check is None:
            raise fail(key, f"is not a setting; known settings: {', '.join(sorted(_CHECKS))}")
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    cal = {k: values.pop(k) for k in list(values) if k in _CALENDAR_KEYS}
    if "labels" in values:
        values["labels"] = {**base.labels, **values["labels"]}
    values.setdefault("agencies", ())  # an agency belongs to one area: never inherited
    if "window_days" in values and "window_months" in values:
        raise fail("window_days", "and window_months are both set: keep one")
    if "window_months" in values:  # an area's own window replaces the inherited one
        values["window_days"] = None
    area = replace(base, name=name, calendar=replace(base.calendar, **cal), **values)
    if area.medium_risk_min > area.medium_risk_max or area.medium_risk_max >= area.dash_high_risk:
        given = [k for k in ("medium_risk_max", "medium_risk_min", "dash_high_risk") if k in raw]
        raise fail(
            given[0] if given else None,
            f"gives a medium band {area.medium_risk_min}..{area.medium_risk_max} that is empty "
            f"or reaches the high-risk threshold {area.dash_high_risk}",
        )
    return area


def load_areas(text: str | None = None, source: str = "areas.toml") -> AreaBook:
    """Parse the area settings (the packaged file unless text is given); errors name the line."""
    if text is None:
        text = resources.files("hub.data").joinpath("areas.toml").read_text("utf-8")
        source = "hub/data/areas.toml"
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AreaSettingsError(_syntax(source, str(exc))) from None
    if DEFAULT not in table:
        raise AreaSettingsError(f"{source}: there is no [default] table; add one")
    default = _area(DEFAULT, table[DEFAULT], AreaSettings(), text, source)
    areas = {n: _area(n, raw, default, text, source) for n, raw in table.items() if n != DEFAULT}
    owners: dict[str, str] = {}
    for name, area in sorted(areas.items()):
        for agency in area.agencies:
            if agency in owners:
                line = _line_of(text, name, "agencies")
                raise AreaSettingsError(
                    f"{source} line {line}: [{name}] agencies lists {agency}, already in "
                    f"[{owners[agency]}]; an agency belongs to one area"
                )
            owners[agency] = name
    return AreaBook(default, areas)


def _syntax(source: str, message: str) -> str:
    """tomllib says '... (at line 3, column 5)'; put the line first, as for other errors."""
    m = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    if not m:
        return f"{source}: {message}"
    problem = message[: m.start()].strip()
    return f"{source} line {m.group(1)}: {problem} (column {m.group(2)}); this is not valid TOML"


@dataclass(frozen=True)
class SettingInForce:
    key: str
    value: str  # as the rules file writes it
    inherited: bool  # taken from [default], not set by the area itself


def settings_in_force(area: AreaSettings, default: AreaSettings) -> list[SettingInForce]:
    """Every setting in force in an area, as the rules file would write it, inherited ones
    marked (``agencies`` is never inherited)."""
    cal, base = area.calendar, default.calendar
    rows: list[tuple[str, Any, Any]] = [
        (f.name, getattr(area, f.name), getattr(default, f.name))
        for f in fields(AreaSettings)
        if f.name not in ("name", "calendar", "labels")
    ]
    rows += [
        ("holidays", sorted(cal.holidays), sorted(base.holidays)),
        ("school_holidays", list(cal.school_holidays), list(base.school_holidays)),
        ("timezone", cal.timezone, base.timezone),
        ("school_day_start", cal.school_day_start, base.school_day_start),
        ("labels", dict(area.labels), dict(default.labels)),
    ]
    return [
        SettingInForce(
            key, _show(value), area.name != DEFAULT and key != "agencies" and value == inherited
        )
        for key, value, inherited in rows
        if value is not None  # unset (window_days when the window is in months): not in force
    ]


def describe(area: AreaSettings, default: AreaSettings) -> list[str]:
    """The settings in force in an area, one `key = value` per line, inherited ones marked."""
    lines = [f"[{area.name}]"]
    for s in settings_in_force(area, default):
        lines.append(f"{s.key} = {s.value}" + ("  # from [default]" if s.inherited else ""))
    return lines


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_show(v)}' for k, v in sorted(value.items())) + "}"
    if isinstance(value, time):
        return f'"{value.isoformat(timespec="minutes")}"'
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
