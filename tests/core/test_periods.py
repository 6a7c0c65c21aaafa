"""Periods cut in the project's time zone, including DST and quarter boundaries."""

from datetime import datetime

import pytest

from surveys.memo import memo
from surveys.periods import (
    last_complete_periods,
    next_period,
    period_from_label,
    period_of,
    periods_between,
    previous_period,
)


def test_quarter_in_utc():
    p = period_of(datetime(2026, 5, 17, 12), "quarter", "UTC")
    assert p.label == "2026-Q2"
    assert (p.start, p.end) == (datetime(2026, 4, 1), datetime(2026, 7, 1))


def test_quarter_boundary_in_new_york():
    # 2026-04-01 00:00 in New York (EDT, UTC-4) is 04:00 UTC.
    assert period_of(datetime(2026, 4, 1, 3, 59, 59), "quarter", "America/New_York").label == (
        "2026-Q1"
    )
    assert period_of(datetime(2026, 4, 1, 4, 0, 0), "quarter", "America/New_York").label == (
        "2026-Q2"
    )
    q1 = period_from_label("2026-Q1", "quarter", "America/New_York")
    # Q1 starts in winter time (UTC-5) and ends in summer time (UTC-4).
    assert (q1.start, q1.end) == (datetime(2026, 1, 1, 5), datetime(2026, 4, 1, 4))


def test_quarter_boundary_east_of_utc():
    # Tokyo is UTC+9: 2026-06-30 15:00 UTC is already 2026-07-01 in Tokyo.
    assert period_of(datetime(2026, 6, 30, 15), "quarter", "Asia/Tokyo").label == "2026-Q3"
    assert period_of(datetime(2026, 6, 30, 14, 59), "quarter", "Asia/Tokyo").label == "2026-Q2"


def test_month_and_week_labels():
    assert period_of(datetime(2026, 3, 31, 23), "month", "UTC").label == "2026-03"
    assert period_of(datetime(2026, 1, 1), "week", "UTC").label == "2026-W01"
    assert period_of(datetime(2025, 12, 29), "week", "UTC").label == "2026-W01"


def test_periods_between_includes_empty_ones():
    ps = periods_between(datetime(2025, 11, 3), datetime(2026, 5, 1), "quarter", "Europe/Berlin")
    assert [p.label for p in ps] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert all(a.end == b.start for a, b in zip(ps, ps[1:], strict=False))


def test_year_rollover_and_complete_periods():
    q4 = period_from_label("2025-Q4", "quarter", "UTC")
    assert next_period(q4, "quarter", "UTC").label == "2026-Q1"
    last = last_complete_periods(datetime(2026, 5, 1), "quarter", "UTC", 2)
    assert [p.label for p in last] == ["2025-Q4", "2026-Q1"]


@pytest.mark.parametrize("label", ["2026-Q5", "2026-13", "26-Q1", "2026-W60", ""])
def test_bad_labels(label):
    unit = "month" if "-1" in label else "quarter"
    with pytest.raises(ValueError):
        period_from_label(label, unit, "UTC")


def test_unknown_zone():
    with pytest.raises(ValueError):
        period_of(datetime(2026, 1, 1), "quarter", "Mars/Olympus")


def test_remembered_periods_keep_their_zone_and_unit() -> None:
    # Periods are memoised by first local day, unit and zone: the same day in another zone or
    # unit is another period, and emptying the memos changes no answer.
    moment = datetime(2026, 5, 17, 12)
    utc = period_of(moment, "quarter", "UTC")
    new_york = period_of(moment, "quarter", "America/New_York")
    month = period_of(moment, "month", "America/New_York")
    assert (utc.start, new_york.start, month.start) == (
        datetime(2026, 4, 1, 0),
        datetime(2026, 4, 1, 4),
        datetime(2026, 5, 1, 4),
    )
    names = {info.name for info in memo.info()}
    assert {"surveys.periods._period", "surveys.periods.parse_label_start"} <= names
    memo.clear()
    assert period_of(moment, "quarter", "America/New_York") == new_york
    assert previous_period(new_york, "quarter", "America/New_York").label == "2026-Q1"
