"""Schemas of the calling project's settings."""

from marshmallow import Schema, fields, validate

from service.schemas.common import UtcDateTime, one_line, validate_zone


class ProjectSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = one_line(200, 1)
    time_zone = fields.String(
        validate=validate_zone,
        metadata={
            "description": "IANA zone; periods (quarters, months) are cut in it. After a "
            "change the worker re-cuts the stored per-period answers on its next pass; "
            "movement stays right meanwhile, only slower."
        },
    )
    throttle_days = fields.Integer(
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "Fatigue guard: nobody is surveyed more than once per this."},
    )
    allowed_origins = fields.List(
        fields.String(validate=validate.Regexp(r"^https?://[^/\s]+/?$")),
        validate=validate.Length(max=100),
        metadata={"description": "Origins allowed to embed the widget (CORS)."},
    )
    require_identity_verification = fields.Boolean(
        metadata={
            "description": "The widget must send a valid user_hash to act as a person (on "
            "for new projects). Off, an unsigned visit still never changes a person the "
            "server wrote."
        }
    )
    hide_emails_from_viewers = fields.Boolean(
        metadata={"description": "Team-app viewers do not see people's email addresses."}
    )
    key_prefix = fields.String(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
