"""Schemas of survey responses: recording, reading, changing and listing."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import Properties, PropertyFilterArgs, UtcDateTime, id_field
from service.schemas.triage import TriageFilterArgs
from surveys.answers import MAX_COMMENT, RESPONSE_CHANNELS
from surveys.response_context import ResponseContext
from surveys.segments import MOVEMENTS, SEGMENTS, Movement, segment_of


class PersonRefSchema(Schema):
    id = id_field(metadata={"description": "Flywheel's person id."})
    external_id = fields.String(validate=validate.Length(min=1, max=255))
    email = fields.Email(validate=validate.Length(max=320))

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(k) is not None for k in ("id", "external_id", "email")):
            raise ValidationError("give id, external_id or email", "external_id")


class ResponseCreateSchema(Schema):
    survey_id = id_field(required=True)
    person = fields.Nested(
        PersonRefSchema,
        required=True,
        metadata={"description": "Who answered; created when new (by external_id or email)."},
    )
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10))
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT))
    channel = fields.String(load_default="api", validate=validate.OneOf(RESPONSE_CHANNELS))
    locale = fields.String(allow_none=True, validate=validate.Length(max=35))
    created_at = UtcDateTime(
        metadata={"description": "When the answer was given, for importing history."}
    )
    properties = Properties(
        allow_none=True,
        metadata={"description": "Snapshot of the person's properties; default: current ones."},
    )


_NO_CONTEXT = ResponseContext(None, None, None, None)


def _ctx(response: Any) -> ResponseContext:
    return getattr(response, "context", _NO_CONTEXT)


class ResponseSchema(Schema):
    """Dump responses after `attach_contexts`, which adds movement and theme."""

    id = fields.Integer()
    survey_id = fields.Integer(allow_none=True)
    person_id = fields.Integer()
    score = fields.Integer(allow_none=True)
    segment = fields.Function(
        lambda r: segment_of(r.score),
        metadata={"enum": [s.value for s in SEGMENTS], "description": "Null without a score."},
    )
    comment = fields.String(allow_none=True)
    channel = fields.String()
    locale = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    page_url = fields.String(allow_none=True)
    excluded = fields.Boolean()
    properties = fields.Dict()
    invitation_id = fields.Integer(allow_none=True)
    previous_segment = fields.Function(
        lambda r: _ctx(r).previous_segment,
        allow_none=True,
        metadata={
            "enum": [s.value for s in SEGMENTS],
            "description": "Segment of the same person's previous counted answer to the same "
            "survey; null when this is their first.",
        },
    )
    movement = fields.Function(
        lambda r: _ctx(r).movement,
        allow_none=True,
        metadata={
            "enum": [m.value for m in MOVEMENTS if m is not Movement.LAPSED],
            "description": "This answer's segment against previous_segment; null when the "
            "answer counts in no NPS (no score, or excluded).",
        },
    )
    theme_id = fields.Function(
        lambda r: _ctx(r).theme_id,
        allow_none=True,
        metadata={"description": "Friction point of the latest finished theme run; null if none."},
    )
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ResponsePatchSchema(Schema):
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT))
    excluded = fields.Boolean(
        metadata={"description": "An excluded response stays stored but counts in no metric."}
    )


class ResponseFilterArgs(TriageFilterArgs, PropertyFilterArgs):
    survey_id = id_field()
    since = UtcDateTime(metadata={"description": "Created at or after (ISO 8601)."})
    until = UtcDateTime(metadata={"description": "Created before (ISO 8601)."})
    segment = fields.String(validate=validate.OneOf([s.value for s in SEGMENTS]))
    person_id = id_field()
    channel = fields.String(validate=validate.OneOf(RESPONSE_CHANNELS))
    updated_since = UtcDateTime(
        metadata={"description": "Changed at or after, for incremental pulls."}
    )
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Comments containing this text, ignoring case; `%` and `_` are "
            "matched as typed."
        },
    )
    theme_id = id_field(
        metadata={"description": "Responses in this friction point of the latest theme run."}
    )


class ResponseListArgs(PageArgs, ResponseFilterArgs):
    pass
