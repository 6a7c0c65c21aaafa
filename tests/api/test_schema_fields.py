"""Shared schema fields: `UtcDateTime` reads ISO 8601 into naive UTC, and a string it has read
before gives the same value again without being parsed (the widget repeats `created_at`)."""

from __future__ import annotations

from datetime import datetime

import pytest
from marshmallow import ValidationError

from service.schemas.common import UtcDateTime


def test_utc_datetime_reads_iso_into_naive_utc_and_remembers():
    field = UtcDateTime()
    assert field.deserialize("2026-03-01T01:30:00+02:00") == datetime(2026, 2, 28, 23, 30)
    assert field.deserialize("2026-03-01T01:30:00Z") == datetime(2026, 3, 1, 1, 30)
    assert field.deserialize("2026-03-01T01:30:00") == datetime(2026, 3, 1, 1, 30)
    again = field.deserialize("2026-03-01T01:30:00+02:00")
    assert again == datetime(2026, 2, 28, 23, 30) and again.tzinfo is None
    # Refusals are never remembered as values: the same bad string fails every time.
    for _ in range(2):
        with pytest.raises(ValidationError):
            field.deserialize("1066-10-14T09:00:00Z")
        with pytest.raises(ValidationError):
            field.deserialize("not a date")


def test_utc_datetime_memory_is_bounded():
    field = UtcDateTime()
    for minute in range(UtcDateTime.PARSED_LIMIT + 10):
        moment = datetime(2026, 1, 1, minute // 60 % 24, minute % 60, minute // 1440)
        assert field.deserialize(moment.isoformat()) == moment
    assert len(field._parsed) <= UtcDateTime.PARSED_LIMIT
