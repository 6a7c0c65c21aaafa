"""Schemas of people: upsert input, output, batch and list filters."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import (
    Properties,
    RowList,
    SingleLine,
    UtcDateTime,
    one_line,
    validate_zone,
)

BATCH_MAX = 10_000


class PersonInSchema(Schema):
    external_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "The person's id in your system; the upsert key."},
    )
    email = fields.Email(validate=[validate.Length(max=320), SingleLine()], allow_none=True)
    name = one_line(255, allow_none=True)
    locale = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"),
        allow_none=True,
        metadata={"example": "ru-RU"},
    )
    time_zone = fields.String(validate=validate_zone, allow_none=True)
    created_at = UtcDateTime(
        allow_none=True, metadata={"description": "Customer since (eligibility counts from it)."}
    )
    properties = Properties()


class PersonCreateSchema(PersonInSchema):
    @validates_schema
    def _identity(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("external_id") and not data.get("email"):
            raise ValidationError("external_id or email is required", "external_id")


class PersonSchema(PersonInSchema):
    id = fields.Integer(dump_only=True)
    added_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
    unsubscribed_at = UtcDateTime(dump_only=True, allow_none=True)
    bounced_at = UtcDateTime(dump_only=True, allow_none=True)


class PeopleBatchSchema(Schema):
    people = RowList(
        fields.Nested(PersonCreateSchema),
        rows_called="people",
        required=True,
        validate=validate.Length(min=1, max=BATCH_MAX),
        metadata={"description": f"1–{BATCH_MAX:,} people, upserted like POST /people."},
    )


class RowErrorSchema(Schema):
    index = fields.Integer()
    errors = fields.Dict()


class PeopleBatchResultSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    failed = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema))


class PeopleListArgs(PageArgs):
    email = fields.String()
    external_id = fields.String()
    updated_since = UtcDateTime()
