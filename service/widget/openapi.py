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
    reason = fields.String(allow_none=True)
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
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": {
                        str(status): {
                            "description": "OK",
                            "content": {"application/json": {"schema": answer}},
                        },
                        "default": {"$ref": "#/components/responses/DEFAULT_ERROR"},
                    },
                }
            },
        )
