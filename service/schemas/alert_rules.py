"""Schemas of alert rules: input (create and change), output with the URL masked, test."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.schemas.common import SingleLine, UtcDateTime, one_line
from surveys.loop.alert_rules import DESTINATIONS, KINDS, MAX_EMAILS, MAX_GROUP_SECONDS


class AlertRuleInSchema(Schema):
    name = one_line(200, 1, required=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(KINDS),
        metadata={"description": "detractor, promoter_to_detractor or theme_growth."},
    )
    comment_required = fields.Boolean(
        metadata={"description": "Only answers with a comment (answer kinds only)."}
    )
    property_key = one_line(
        100, allow_none=True, metadata={"description": "Only answers whose property ..."}
    )
    property_value = one_line(
        1000, allow_none=True, metadata={"description": "... has this value, e.g. enterprise."}
    )
    revenue_property = one_line(
        100, allow_none=True, metadata={"description": "A numeric property, e.g. mrr ..."}
    )
    revenue_min = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=-(2**63), max=2**63),
        metadata={"description": "... at least this large."},
    )
    destination = fields.String(required=True, validate=validate.OneOf(DESTINATIONS))
    url = fields.String(
        load_only=True,
        allow_none=True,
        validate=[validate.Length(min=1, max=2000), SingleLine()],
        metadata={"description": "Slack or Teams incoming-webhook URL; never shown again."},
    )
    emails = fields.List(
        fields.String(validate=[validate.Length(min=3, max=320), SingleLine()]),
        validate=validate.Length(max=MAX_EMAILS),
        metadata={"description": "Addresses for the email destination."},
    )
    group_seconds = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_GROUP_SECONDS),
        metadata={"description": "Matches within this window go out as one message."},
    )
    active = fields.Boolean()


class AlertRuleSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    comment_required = fields.Boolean()
    property_key = fields.String(allow_none=True)
    property_value = fields.String(allow_none=True)
    revenue_property = fields.String(allow_none=True)
    revenue_min = fields.Float(allow_none=True)
    destination = fields.String()
    url = fields.String(
        attribute="url_hint",
        allow_none=True,
        metadata={"description": "The URL masked: scheme, host and its last characters."},
    )
    emails = fields.List(fields.String())
    group_seconds = fields.Integer()
    active = fields.Boolean()
    last_status = fields.String(allow_none=True)
    last_sent_at = UtcDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class AlertRuleListSchema(Schema):
    items = fields.List(fields.Nested(AlertRuleSchema))


class AlertTestSchema(Schema):
    queued = fields.Boolean()
    event_id = fields.Integer()
