"""Schemas of webhooks: the endpoint, its filters, the secret shown once, and deliveries."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import UtcDateTime, id_field, one_line
from surveys.events import EVENT_TYPES
from surveys.segments import MAX_SCORE, MIN_SCORE, SEGMENTS

DELIVERY_STATUSES = ("pending", "sending", "succeeded", "failed")


def _score(description: str) -> fields.Integer:
    return fields.Integer(
        allow_none=True,
        validate=validate.Range(min=MIN_SCORE, max=MAX_SCORE),
        metadata={"description": description},
    )


def _url(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=2048),
        metadata={
            "description": "An http(s) URL on a public address; private, loopback and "
            "link-local targets are refused unless the operator set WEBHOOK_ALLOW_PRIVATE=1.",
            "example": "https://example.com/hooks/flywheel",
        },
        **kwargs,
    )


def _events(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": "Event types to receive.", "example": ["response.created"]},
        **kwargs,
    )


class WebhookInSchema(Schema):
    """The fields a PATCH may change; absent ones stay as they are."""

    url = _url()
    events = _events()
    description = one_line(500, allow_none=True)
    active = fields.Boolean(
        metadata={"description": "Paused when false; true again re-enables a disabled one."}
    )
    survey_id = id_field(allow_none=True, metadata={"description": "Only events of this survey."})
    segment = fields.String(
        allow_none=True,
        validate=validate.OneOf([s.value for s in SEGMENTS]),
        metadata={"description": "Only answers (or segment changes) into this segment."},
    )
    score_min = _score("Only answers scored at least this.")
    score_max = _score("Only answers scored at most this.")

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("score_min is above score_max", "score_min")


class WebhookCreateSchema(WebhookInSchema):
    url = _url(required=True)
    events = _events(required=True)


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    survey_id = fields.Integer(allow_none=True)
    segment = fields.String(allow_none=True)
    score_min = fields.Integer(allow_none=True)
    score_max = fields.Integer(allow_none=True)
    consecutive_failures = fields.Integer(
        metadata={"description": "Deliveries that failed in a row (reset by a success)."}
    )
    disabled_at = UtcDateTime(
        allow_none=True,
        metadata={"description": "When the worker disabled it after failing too long."},
    )
    disabled_reason = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(
        attribute="plain_secret",
        metadata={
            "description": "The signing secret (`whsec_...`), shown this once: verify "
            "`webhook-signature` with it (Standard Webhooks).",
        },
    )


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))


class DeliverySchema(Schema):
    id = fields.Integer()
    webhook_id = fields.Integer()
    event_type = fields.String(metadata={"example": "response.created"})
    msg_id = fields.String(
        metadata={"description": "The `webhook-id` header, the same on every attempt."}
    )
    status = fields.String(
        metadata={
            "description": "pending (waiting for its next attempt), sending, succeeded, or "
            "failed (a 4xx answer, or the retry schedule ran out).",
            "enum": list(DELIVERY_STATUSES),
        }
    )
    attempts = fields.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    last_attempt_at = UtcDateTime(allow_none=True)
    response_code = fields.Integer(allow_none=True)
    latency_ms = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = UtcDateTime()


class DeliveryListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
