"""Shared schema fields: `UtcDateTime` reads ISO 8601 into naive UTC."""

from __future__ import annotations

from datetime import datetime

import pytest
from marshmallow import ValidationError

from service.schemas.common import UtcDateTime


def test_utc_datetime_reads_iso_into_naive_utc():
    field = UtcDateTime()
    assert field.deserialize("2026-03-01T01:30:00+02:00") == datetime(2026, 2, 28, 23, 30)
    assert field.deserialize("2026-03-01T01:30:00Z") == datetime(2026, 3, 1, 1, 30)
    assert field.deserialize("2026-03-01T01:30:00") == datetime(2026, 3, 1, 1, 30)
    again = field.deserialize("2026-03-01T01:30:00+02:00")
    assert again == datetime(2026, 2, 28, 23, 30) and again.tzinfo is None
    for _ in range(2):
        with pytest.raises(ValidationError):
            field.deserialize("1066-10-14T09:00:00Z")
        with pytest.raises(ValidationError):
            field.deserialize("not a date")
