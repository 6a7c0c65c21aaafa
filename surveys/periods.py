"""Periods (quarter, month, week) cut in a project's time zone and expressed as UTC bounds.

SQL cannot convert time zones the same way on SQLite and PostgreSQL, so the bounds are
computed here once and the database only compares stored UTC times against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveys.clock import to_naive_utc
from surveys.memo import memo

UNITS = ("quarter", "month", "week")
_LABEL_PATTERNS = {
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "week": re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$"),
}


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # naive UTC, inclusive
    end: datetime  # naive UTC, exclusive


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_valid_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _local_start(day: date, unit: str) -> date:
    if unit == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if unit == "month":
        return date(day.year, day.month, 1)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    raise ValueError(f"unknown period unit {unit!r}")


def _next_start(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    months = 3 if unit == "quarter" else 1
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _previous_start(start: date, unit: str) -> date:
    if unit == "week":
        return start - timedelta(days=7)
    months = 3 if unit == "quarter" else 1
    month = start.month - 1 - months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _label(start: date, unit: str) -> str:
    if unit == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if unit == "month":
        return f"{start.year}-{start.month:02d}"
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return to_naive_utc(datetime(day.year, day.month, day.day, tzinfo=tz))


# A period depends only on its first local day, its unit and the zone: an answer cuts the
# same few periods (its own and its neighbours, per unit) again and again, and each cut turns
# two local midnights into UTC through the zone's rules.
@memo(maxsize=4096)
def _period(start: date, unit: str, tz: ZoneInfo) -> Period:
    return Period(
        _label(start, unit),
        _utc_midnight(start, tz),
        _utc_midnight(_next_start(start, unit), tz),
    )


def period_of(moment: datetime, unit: str, tz_name: str) -> Period:
    """The period holding a moment (naive UTC or aware)."""
    tz = zone(tz_name)
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return _period(_local_start(aware.astimezone(tz).date(), unit), unit, tz)


def periods_between(first: datetime, last: datetime, unit: str, tz_name: str) -> list[Period]:
    """Every period from the one holding `first` to the one holding `last`, in order."""
    tz = zone(tz_name)
    current = period_of(first, unit, tz_name)
    end = period_of(last, unit, tz_name)
    out = [current]
    # Step by local calendar dates, not UTC offsets, to stay exact across DST shifts.
    day = parse_label_start(current.label, unit)
    while out[-1].label != end.label:
        day = _next_start(day, unit)
        out.append(_period(day, unit, tz))
    return out


@memo(maxsize=4096)
def parse_label_start(label: str, unit: str) -> date:
    match = _LABEL_PATTERNS[unit].match(label)
    if not match:
        examples = {"quarter": "2026-Q1", "month": "2026-03", "week": "2026-W05"}
        raise ValueError(f"{label!r} is not a {unit} (expected e.g. {examples[unit]})")
    year, part = int(match.group(1)), int(match.group(2))
    if unit == "quarter":
        return date(year, 3 * (part - 1) + 1, 1)
    if unit == "month":
        return date(year, part, 1)
    return date.fromisocalendar(year, part, 1)


def period_from_label(label: str, unit: str, tz_name: str) -> Period:
    return _period(parse_label_start(label, unit), unit, zone(tz_name))


def next_period(period: Period, unit: str, tz_name: str) -> Period:
    start = _next_start(parse_label_start(period.label, unit), unit)
    return _period(start, unit, zone(tz_name))


def previous_period(period: Period, unit: str, tz_name: str) -> Period:
    start = _previous_start(parse_label_start(period.label, unit), unit)
    return _period(start, unit, zone(tz_name))


def last_complete_periods(now: datetime, unit: str, tz_name: str, count: int) -> list[Period]:
    """The `count` complete periods before the one holding `now`, oldest first."""
    current = period_of(now, unit, tz_name)
    out: list[Period] = []
    p = current
    for _ in range(count):
        p = previous_period(p, unit, tz_name)
        out.append(p)
    return list(reversed(out))
