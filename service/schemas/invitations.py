"""Schemas of the email outbox: invitations, ad hoc sends, counts, schedules, unsubscribes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import UtcDateTime, id_field
from surveys.email.delivery import STATUSES
from surveys.email.scheduling import Reason
from surveys.periods import UNITS as PERIOD_UNITS

AD_HOC_MAX = 1000


class InvitationSchema(Schema):
    id = fields.Integer()
    survey_id = fields.Integer()
    person_id = fields.Integer()
    channel = fields.String(metadata={"example": "email"})
    kind = fields.String(metadata={"description": "`invite` or `reminder`."})
    window_key = fields.String(
        metadata={"description": "The cadence window (or `adhoc:` send) it belongs to."}
    )
    status = fields.String(
        metadata={
            "description": "scheduled, sending, sent, failed, uncertain (the dispatcher died "
            "mid-send: never resent), cancelled (unsubscribed, bounced or survey closed)."
        }
    )
    due_at = UtcDateTime()
    attempts = fields.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    sent_at = UtcDateTime(allow_none=True)
    responded_at = UtcDateTime(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class InvitationListArgs(PageArgs):
    survey_id = id_field()
    person_id = id_field()
    status = fields.String(validate=validate.OneOf(STATUSES))


class AdHocSchema(Schema):
    # Not required here: another project's survey answers 404 before an empty list is 422.
    person_ids = fields.List(
        id_field(),
        load_default=list,
        validate=validate.Length(max=AD_HOC_MAX),
        metadata={"description": f"1–{AD_HOC_MAX} people of the project.", "example": [1, 2]},
    )
    force = fields.Boolean(
        load_default=False,
        metadata={"description": "Send despite the fatigue guard (never to unsubscribed)."},
    )


class SkippedSchema(Schema):
    person_id = fields.Integer()
    reason = fields.String(metadata={"example": "throttled"})


class AdHocResultSchema(Schema):
    invitations = fields.List(fields.Nested(InvitationSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))


class InvitationStatsSchema(Schema):
    scheduled = fields.Integer()
    sending = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    bounced = fields.Integer()
    uncertain = fields.Integer()
    cancelled = fields.Integer()
    responded = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata={"description": "responded / sent"})


class RatesArgs(Schema):
    group_by = fields.String(load_default="quarter", validate=validate.OneOf(PERIOD_UNITS))
    since = UtcDateTime(
        metadata={"description": "First period holds this instant (default: a year ago)."}
    )
    until = UtcDateTime(metadata={"description": "Last period holds this instant (default: now)."})


class PeriodRateSchema(Schema):
    key = fields.String(metadata={"example": "2026-Q1"})
    start = UtcDateTime()
    end = UtcDateTime()
    sent = fields.Integer(metadata={"description": "Invitations sent in the period."})
    responded = fields.Integer(metadata={"description": "Of those, how many were answered."})
    response_rate = fields.Float(allow_none=True, metadata={"description": "responded / sent"})


class RatesSchema(Schema):
    buckets = fields.List(fields.Nested(PeriodRateSchema))


class SurveyScheduleSchema(Schema):
    survey_id = fields.Integer()
    due = fields.Boolean(metadata={"description": "Due now, or already in the outbox."})
    next_due_at = UtcDateTime(allow_none=True)
    reason = fields.String(
        allow_none=True,
        metadata={"description": "Why not due now: " + ", ".join(r.value for r in Reason)},
    )
    pending_invitation_id = fields.Integer(allow_none=True)


class PersonScheduleSchema(Schema):
    person_id = fields.Integer()
    surveys = fields.List(fields.Nested(SurveyScheduleSchema))


class UnsubscribeInSchema(Schema):
    person_id = id_field()
    external_id = fields.String(validate=validate.Length(min=1, max=255))
    email = fields.Email(validate=validate.Length(max=320))

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("give person_id, external_id or email", "email")


class UnsubscribeSchema(Schema):
    person_id = fields.Integer(attribute="id")
    external_id = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    unsubscribed_at = UtcDateTime()
