"""The widget endpoints in the OpenAPI description, so they are documented and fuzzed too.

They are plain Flask views (widget.js posts `text/plain` to skip CORS preflights), so they are
described here by hand from the same marshmallow schemas the views load.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from marshmallow import Schema, fields

from service.widget.schemas import AnswerSchema, DisplayTokenSchema, FeedbackSchema, VisitSchema


class WidgetSurveySchema(Schema):
    id = fields.Integer()
    question = fields.String()
    product_name = fields.String(allow_none=True)


class VisitAnswerSchema(Schema):
    show = fields.Boolean(required=True)
    reason = fields.String(
        required=True,
        metadata={
            "description": "Why the survey is or is not shown, the first rule that decided: "
            "no_survey, survey_inactive, no_widget_channel, answered_recently, too_new, "
            "dismissed_recently, throttled, sampled_out, daily_cap (not shown); resumed, "
            "forced, eligible (shown)."
        },
    )
    retry_after = fields.Integer(
        allow_none=True, metadata={"description": "Seconds until asking again is worthwhile."}
    )
    identified = fields.Boolean()
    locale = fields.String(allow_none=True)
    identity = fields.String(metadata={"enum": ["unverified"]})
    display_token = fields.String()
    survey = fields.Nested(WidgetSurveySchema)


class WidgetAnswerSchema(Schema):
    response_id = fields.Integer(required=True)
    score = fields.Integer(allow_none=True)
    segment = fields.String(allow_none=True)
    followup = fields.String(allow_none=True)


class DismissedSchema(Schema):
    dismissed = fields.Boolean(required=True)


class FeedbackAnswerSchema(Schema):
    response_id = fields.Integer(required=True)


# What the key check, the origin check and the rate limits answer before any view runs.
ACCESS_ERRORS = {
    "401": "No valid publishable key (`?key=fw_pk_...`).",
    "403": "`origin_not_allowed`: the page's origin is not in the project's allowed_origins.",
    "400": "`malformed_json`: the body is not a JSON object.",
    "422": "A field is invalid (named in `error.details`).",
    "429": "`rate_limited`, per IP or per key; `Retry-After` says when to try again.",
}

EXAMPLES = {
    "/w/v1/visits": {
        "external_id": "u-123",
        "email": "ada@example.com",
        "locale": "en",
        "created_at": "2026-01-15T10:00:00Z",
        "properties": {"plan": "pro"},
        # HMAC-SHA256 of external_id under the project's identity_secret, in hex.
        "user_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    },
    "/w/v1/responses": {"display_token": "eyJkIjo...", "score": 9},
    "/w/v1/dismissals": {"display_token": "eyJkIjo..."},
    "/w/v1/feedback": {"external_id": "u-123", "comment": "Export to CSV times out"},
}

OPERATIONS = [
    (
        "/w/v1/visits",
        VisitSchema,
        200,
        VisitAnswerSchema,
        "Identify the visitor and ask whether to show the survey now",
        "Upserts the person (by external_id, verified by user_hash when the project requires "
        "it; else anonymous by anonymous_id) and answers `show` with a `reason` whenever it is "
        "false, and a signed `display_token` when true.",
    ),
    (
        "/w/v1/responses",
        AnswerSchema,
        200,
        WidgetAnswerSchema,
        "Record the score (then the comment) of a display",
        "`{display_token, score}` records the answer (channel `widget`) and returns the "
        "segment's follow-up question; `{display_token, comment}` adds the comment to the same "
        "response. One display, one response.",
    ),
    (
        "/w/v1/dismissals",
        DisplayTokenSchema,
        200,
        DismissedSchema,
        "The visitor closed the survey without answering",
        "Counts towards `dismiss_backoff_days`.",
    ),
    (
        "/w/v1/feedback",
        FeedbackSchema,
        201,
        FeedbackAnswerSchema,
        "Free-form in-product feedback",
        "Stored as a response without a score: it counts in no NPS but feeds friction points.",
    ),
]


def document(api: Api, app: Flask) -> None:
    api.spec.components.security_scheme(
        "publishableKey",
        {"type": "apiKey", "in": "query", "name": "key", "description": "fw_pk_..."},
    )
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path, body, status, answer, summary, description in OPERATIONS:
        api.spec.path(
            rule=rules[path],
            operations={
                "post": {
                    "tags": ["widget"],
                    "summary": summary,
                    "description": description,
                    "security": [{"publishableKey": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": body, "example": EXAMPLES[path]}
                        },
                    },
                    "responses": {
                        str(status): {
                            "description": "OK",
                            "content": {"application/json": {"schema": answer}},
                        },
                        **{
                            code: {
                                "description": text,
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Error"}
                                    }
                                },
                            }
                            for code, text in ACCESS_ERRORS.items()
                        },
                        "default": {"$ref": "#/components/responses/DEFAULT_ERROR"},
                    },
                }
            },
        )
