"""Field types shared by the schemas: UTC datetimes, JSON property maps, HH:MM times, texts
without control characters."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from surveys.periods import is_valid_zone
from surveys.plain_text import is_multi_line, is_single_line

MAX_PROPERTIES = 200
# Ids are 64-bit: anything larger cannot name a row and must not reach the database driver.
MAX_ID = 2**63 - 1
# A property number fits a 64-bit integer (the export's typed columns) and, squared and summed
# as a weight, a double: past it a value breaks exports and metrics rather than meaning more.
MAX_PROPERTY_NUMBER = 2**63 - 1


def id_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class UtcDateTime(fields.DateTime):
    """ISO 8601 in and out; stored naive UTC, shown with a `Z`. Naive input is taken as UTC."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        return stored_utc(super()._deserialize(value, attr, data, **kwargs))


def stored_utc(parsed: datetime) -> datetime:
    """A parsed datetime as `UtcDateTime` stores it: naive UTC, year 1900–2999."""
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if not 1900 <= parsed.year <= 2999:
        raise ValidationError("year must be between 1900 and 2999")
    return parsed


class Properties(fields.Dict):
    """A flat JSON object of strings, finite numbers within ±(2^63 − 1), booleans and nulls:
    the one check of every door's properties. Flat keeps it shallow (no nesting to recurse)
    and small (at most 200 keys of 100 characters, values of 1,000)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "description": "Flat object of strings, numbers, booleans.",
                "example": {"plan": "pro", "mrr": 49.0},
            },
        )
        super().__init__(keys=fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        result = super()._deserialize(value, attr, data, **kwargs)
        check_properties(result)
        return result


def check_properties(result: dict[str, Any]) -> None:
    """The rule of a property map whose keys are strings; ValidationError says what breaks it."""
    if len(result) > MAX_PROPERTIES:
        raise ValidationError(f"at most {MAX_PROPERTIES} properties")
    for key, item in result.items():
        if not key or len(key) > 100:
            raise ValidationError("property names are 1–100 characters")
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ValidationError(f"property {key!r} must be a string, number or boolean")
        if isinstance(item, str) and len(item) > 1000:
            raise ValidationError(f"property {key!r} is longer than 1000 characters")
        if isinstance(item, (int, float)) and not _plain_number(item):
            raise ValidationError(f"property {key!r} must be a finite number within ±(2^63 − 1)")


def _plain_number(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= MAX_PROPERTY_NUMBER


class SingleLine(validate.Validator):
    """A text that may reach an email header: no line breaks, tabs or other control
    characters (see `surveys.plain_text`)."""

    error = "must be one line without control characters (line breaks, tabs)"

    def __call__(self, value: str) -> str:
        if not is_single_line(value):
            raise ValidationError(self.error)
        return value


class MultiLine(validate.Validator):
    """A text of several lines: tabs and line breaks, but no other control characters."""

    error = "must not contain control characters other than tabs and line breaks"

    def __call__(self, value: str) -> str:
        if not is_multi_line(value):
            raise ValidationError(self.error)
        return value


def one_line(max_length: int, min_length: int = 0, **kwargs: Any) -> fields.String:
    """A string field of at most `max_length` characters on one line."""
    length = validate.Length(min=min_length or None, max=max_length)
    return fields.String(validate=[length, SingleLine()], **kwargs)


def validate_zone(value: str) -> None:
    if not is_valid_zone(value):
        raise ValidationError("unknown IANA time zone (e.g. Europe/Berlin)")


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_hhmm(value: str) -> None:
    if not _HHMM.match(value):
        raise ValidationError("expected HH:MM (24-hour)")


class PropertyFilterArgs(Schema):
    """Answers whose property snapshot holds a value: `property=plan&property_value=pro`."""

    property = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "A property of the answer's snapshot, e.g. plan."},
    )
    property_value = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "The value it must hold (text, or a number as written)."},
    )

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        if ("property" in data) != ("property_value" in data):
            raise ValidationError("property and property_value go together", "property_value")


class RowList(fields.List):
    """Documented as a list of rows, but loaded as the raw list: the view loads each row on
    its own, so that one bad row does not reject the others (batch endpoints)."""

    def __init__(self, inner: fields.Field, *, rows_called: str, **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        self.rows_called = rows_called

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValidationError(f"expected a list of {self.rows_called}")
        return value
