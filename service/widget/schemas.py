"""Schemas of the widget's requests: who the visitor is, a score or comment, feedback."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from service.schemas.common import MAX_ID, Properties, SingleLine, UtcDateTime, one_line
from surveys.answers import MAX_COMMENT

ANONYMOUS_ID = validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$", error="8–64 letters, digits, _ or -")


class IdentitySchema(Schema):
    """What `flywheel('identify', {...})` sends, plus the browser's anonymous id."""

    # A newer or older widget.js may send fields this server does not know: ignore them.
    class Meta:
        unknown = EXCLUDE

    anonymous_id = fields.String(validate=ANONYMOUS_ID, allow_none=True)
    external_id = fields.String(validate=validate.Length(min=1, max=255), allow_none=True)
    # Printable ASCII, as a hex digest is: anything else cannot be one.
    user_hash = fields.String(
        validate=[
            validate.Length(max=128),
            validate.Regexp(r"^[\x21-\x7e]*$", error="printable ASCII only (a hex digest)"),
        ],
        allow_none=True,
    )
    email = fields.Email(validate=[validate.Length(max=320), SingleLine()], allow_none=True)
    name = one_line(255, allow_none=True)
    locale = fields.String(validate=validate.Length(max=35), allow_none=True)
    created_at = UtcDateTime(allow_none=True)
    properties = Properties(allow_none=True)


class VisitSchema(IdentitySchema):
    browser_locale = fields.String(validate=validate.Length(max=35), allow_none=True)
    survey_id = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    force = fields.Boolean(load_default=False)


class DisplayTokenSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    display_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class AnswerSchema(DisplayTokenSchema):
    score = fields.Integer(strict=True, validate=validate.Range(min=0, max=10), allow_none=True)
    comment = fields.String(validate=validate.Length(max=MAX_COMMENT), allow_none=True)


class FeedbackSchema(IdentitySchema):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=MAX_COMMENT))
    category = fields.String(validate=validate.Length(max=64), allow_none=True)
    page_url = fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2048),
        allow_none=True,
    )
