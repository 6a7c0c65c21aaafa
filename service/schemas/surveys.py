"""Schemas of surveys: texts, cadence, channels and the rules of each door."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import MultiLine, SingleLine, UtcDateTime, one_line, validate_hhmm
from surveys.catalog import CHANNELS
from surveys.segments import SEGMENTS


def _locale_texts(description: str, lines: validate.Validator) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=2, max=35)),
        values=fields.String(validate=[validate.Length(min=1, max=1000), lines]),
        metadata={"description": description},
    )


class SendWindowSchema(Schema):
    start = fields.String(required=True, validate=validate_hhmm, metadata={"example": "09:00"})
    end = fields.String(required=True, validate=validate_hhmm, metadata={"example": "17:00"})

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        # A PATCH loads nested schemas partially too: both bounds are still required here.
        missing = [k for k in ("start", "end") if k not in data]
        if missing:
            raise ValidationError("set both start and end", missing[0])
        if data["start"] >= data["end"]:
            raise ValidationError("start must be before end", "end")


class SurveySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = one_line(200, 1, required=True)
    product_name = one_line(
        200,
        allow_none=True,
        metadata={"description": "Substituted for {product} in the question texts."},
    )
    active = fields.Boolean(load_default=True)
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        validate=validate.Length(min=1, max=len(CHANNELS)),
        metadata={"example": ["email", "widget"]},
    )
    question = _locale_texts(
        'Per-locale override of the NPS question, e.g. {"en": "How likely is it that you '
        'would recommend {product} to a colleague?"}. Built-in texts exist for en, ru, zh.',
        MultiLine(),
    )
    followup = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in SEGMENTS])),
        values=fields.Dict(
            keys=fields.String(),
            values=fields.String(validate=[validate.Length(max=1000), MultiLine()]),
        ),
        metadata={"description": "Follow-up question per segment and locale."},
    )
    email_subject = _locale_texts("Per-locale email subject, one line.", SingleLine())
    email_intro = _locale_texts("Per-locale first paragraph of the email.", MultiLine())
    cadence_days = fields.Integer(
        validate=validate.Range(min=1, max=3650), metadata={"example": 90}
    )
    first_delay_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    sample_rate = fields.Float(validate=validate.Range(min=0.0, max=1.0))
    spread_days = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=365),
        metadata={"description": "Days a wave is spread over; null: the cadence's working days."},
    )
    send_window = fields.Nested(
        SendWindowSchema,
        allow_none=True,
        metadata={"description": "Local send hours; null for any time."},
    )
    reminder_after_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=365))
    min_age_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    dismiss_backoff_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    daily_response_cap = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=10_000_000)
    )
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class SurveyListArgs(PageArgs):
    active = fields.Boolean()
