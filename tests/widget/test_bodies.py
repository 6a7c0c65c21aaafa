"""The widget's body loaders give exactly what `Schema.load` gives: the same values, or the
same errors."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, pre_load

from service.widget.bodies import BodyLoader
from service.widget.schemas import AnswerSchema, DisplayTokenSchema, FeedbackSchema, VisitSchema

VISITS = [
    {},
    {"anonymous_id": "3f9c0e1a7b2d4c68"},
    {"anonymous_id": "short"},
    {"anonymous_id": None, "external_id": "u-1"},
    {"external_id": "u-1", "created_at": "2024-03-01T10:00:00Z", "browser_locale": "en-US"},
    {"external_id": "u-1", "created_at": "2024-03-01T10:00:00+03:00", "force": True},
    {"external_id": "", "locale": "x" * 36},
    {"external_id": "x" * 255, "name": None, "email": "Ann@Example.com"},
    {"external_id": "x" * 256},
    {"external_id": 42},
    {"external_id": ["u-1"]},
    {"external_id": "u-1", "email": "not-an-email", "created_at": "yesterday"},
    {"external_id": "u-1", "properties": {"plan": "pro", "mrr": 49.5, "beta": True}},
    {"external_id": "u-1", "properties": {"a": [1]}},
    {"external_id": "u-1", "survey_id": 3},
    {"external_id": "u-1", "survey_id": "3"},
    {"external_id": "u-1", "survey_id": 0},
    {"external_id": "u-1", "force": None},
    {"external_id": "u-1", "user_hash": "ab" * 64, "unknown": {"nested": 1}},
    {"external_id": "u-1", "user_hash": "ab" * 65},
    {"external_id": "u-1", "name": "Ann Lee"},
    {"external_id": "u-1", "name": "Eve\r\nX-Injected: 1"},
    {"external_id": "u-1", "name": "Eve\u2028x", "email": "eve@example.com"},
    {"external_id": "u-1", "name": "x" * 256},
    {"external_id": "u-1", "email": "eve@example.com\u2028"},
]
ANSWERS = [
    {},
    {"display_token": "t"},
    {"display_token": "", "score": 3},
    {"display_token": "t", "score": 11},
    {"display_token": "t", "score": "9"},
    {"display_token": "t", "score": None, "comment": "ok"},
    {"display_token": None},
]
FEEDBACK = [
    {"anonymous_id": "3f9c0e1a7b2d4c68", "comment": "Export is slow", "category": "problem"},
    {"anonymous_id": "3f9c0e1a7b2d4c68", "comment": ""},
    {"anonymous_id": "3f9c0e1a7b2d4c68", "comment": "x", "page_url": "https://a.example/r"},
    {"anonymous_id": "3f9c0e1a7b2d4c68", "comment": "x", "page_url": "javascript:alert(1)"},
    {"anonymous_id": "3f9c0e1a7b2d4c68"},
    {"anonymous_id": "3f9c0e1a7b2d4c68", "comment": "x", "name": "Eve\tx"},
]


def outcome(load, body):
    try:
        return "ok", load(body)
    except ValidationError as exc:
        return "error", exc.messages


@pytest.mark.parametrize(
    ("schema", "bodies"),
    [
        (VisitSchema(), VISITS),
        (AnswerSchema(), ANSWERS),
        (DisplayTokenSchema(), ANSWERS),
        (FeedbackSchema(), FEEDBACK),
    ],
)
def test_same_as_schema_load(schema, bodies):
    loader = BodyLoader(schema)
    for body in bodies:
        assert outcome(loader.load, body) == outcome(schema.load, body), body


def test_a_schema_with_hooks_is_refused():
    class Hooked(Schema):
        name = fields.String()

        @pre_load
        def strip(self, data, **kwargs):
            return data

    with pytest.raises(TypeError):
        BodyLoader(Hooked())
