"""Schemas of the answers batch (`POST /responses/batch`, `flask import responses`): the
envelope, one row, and the per-row results.

A row is an answer as `POST /responses` takes it, with its idempotency key in the row and the
name and properties of a person the batch creates. `RowLoader` loads a well-formed row field
by field with the schemas' own fields, skipping `Schema.load`'s per-call machinery (a batch
holds up to 10,000 rows); anything it does not accept at once goes through `Schema.load`, so
every error reads as the schema writes it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.errors import ErrorBodySchema, status_of
from service.schemas.common import (
    MAX_ID,
    Properties,
    RowList,
    check_properties,
    one_line,
    stored_utc,
)
from service.schemas.responses import PersonRefSchema, ResponseCreateSchema
from surveys.answers import MAX_COMMENT, RESPONSE_CHANNELS, Answer
from surveys.imports.batch import BATCH_MAX, BatchRow, RowResult


class BatchPersonSchema(PersonRefSchema):
    name = one_line(255, allow_none=True, metadata={"description": "For a person created here."})
    properties = Properties(allow_none=True, metadata={"description": "For a person created here."})


class ResponseBatchRowSchema(ResponseCreateSchema):
    person = fields.Nested(
        BatchPersonSchema,
        required=True,
        metadata={
            "description": "Who answered: matched by id, external_id or email; created when "
            "new, with this name and these properties."
        },
    )
    idempotency_key = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Retries with the same key return the first answer."},
    )
    excluded = fields.Boolean(
        load_default=False, metadata={"description": "Stored but counted in no metric."}
    )


class ResponseBatchSchema(Schema):
    responses = RowList(
        fields.Nested(ResponseBatchRowSchema),
        rows_called="answers",
        required=True,
        validate=validate.Length(min=1, max=BATCH_MAX),
        metadata={"description": f"1–{BATCH_MAX:,} answers, each as POST /responses takes it."},
    )


class BatchRowResultSchema(Schema):
    index = fields.Integer()
    status = fields.Integer(
        metadata={"description": "201 stored, 200 stored before (same key), else the error's."}
    )
    id = fields.Integer(allow_none=True)
    error = fields.Nested(ErrorBodySchema, allow_none=True)


class ResponseBatchResultSchema(Schema):
    created = fields.Integer()
    existing = fields.Integer()
    failed = fields.Integer()
    results = fields.List(fields.Nested(BatchRowResultSchema))


_ROW = ResponseBatchRowSchema()
_ROW_KEYS = frozenset(_ROW.load_fields)
_PERSON_KEYS = frozenset(BatchPersonSchema().load_fields)
_CREATED_AT = _ROW.fields["created_at"]
_EMAIL = BatchPersonSchema().fields["email"]
_NAME = BatchPersonSchema().fields["name"]


def _text(value: Any, low: int, high: int) -> bool:
    return type(value) is str and low <= len(value) <= high


def _created_at(value: Any) -> datetime:
    # What the field does for a string (marshmallow's ISO format is `datetime.fromisoformat`)
    # without its per-call machinery; anything else, or an error, goes through the field,
    # so the message reads as it writes it.
    if type(value) is str:
        try:
            return stored_utc(datetime.fromisoformat(value))
        except (ValueError, ValidationError):
            pass
    return _CREATED_AT.deserialize(value)


def _props(value: Any) -> bool:
    if type(value) is not dict or not all(type(k) is str for k in value):
        return False
    try:
        check_properties(value)
    except ValidationError:
        return False
    return True


_EMAILS_KEPT = 100_000
# Addresses of the plainest shape (ASCII letters, digits, `_+-` and dots between them before
# the @; host labels and a 2-6 letter top-level domain after it): a strict subset of what
# marshmallow's `validate.Email` accepts, so one match stands for its check, which formats its
# error message before it looks at the value. Anything else goes through the field itself.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}",
    re.ASCII,
)


class RowLoader:
    """Loads the rows of one batch or import. An email is checked once per loader (up to
    `_EMAILS_KEPT` of them): a person's answers repeat it (a file of history holds many per
    person), and the check is the costliest part of a row."""

    def __init__(self) -> None:
        self._emails: dict[str, str] = {}

    def load(self, row: Any) -> dict[str, Any]:
        """One row loaded as `ResponseBatchRowSchema().load` would; ValidationError
        otherwise."""
        if type(row) is dict and row.keys() <= _ROW_KEYS:
            try:
                fast = self._row(row)
            except ValidationError:
                fast = None
            if fast is not None:
                return fast
        return _ROW.load(row)

    def _email(self, value: str) -> str:
        checked = self._emails.get(value)
        if checked is None:
            if len(self._emails) >= _EMAILS_KEPT:
                self._emails.clear()  # an import's memory stays flat whatever its length
            plain = _PLAIN_EMAIL.fullmatch(value) is not None
            checked = self._emails[value] = value if plain else _EMAIL.deserialize(value)
        return checked

    def _person(self, who: Any) -> dict[str, Any] | None:
        if type(who) is not dict or not who.keys() <= _PERSON_KEYS:
            return None
        out: dict[str, Any] = {}
        for key, value in who.items():
            if (key == "id" and type(value) is int and 1 <= value <= MAX_ID) or (
                key == "external_id" and _text(value, 1, 255)
            ):
                out[key] = value
            elif key == "email" and _text(value, 1, 320):
                out[key] = self._email(value)
            elif key == "name" and (value is None or _text(value, 0, 255)):
                out[key] = _NAME.deserialize(value)
            elif key == "properties" and (value is None or _props(value)):
                out[key] = value
            else:
                return None
        if not any(out.get(k) is not None for k in ("id", "external_id", "email")):
            return None
        return out

    def _row(self, row: dict[str, Any]) -> dict[str, Any] | None:
        survey_id, score = row.get("survey_id"), row.get("score")
        if not (type(survey_id) is int and 1 <= survey_id <= MAX_ID):
            return None
        if not (type(score) is int and 0 <= score <= 10):
            return None
        person = self._person(row.get("person"))
        if person is None:
            return None
        out: dict[str, Any] = {"survey_id": survey_id, "score": score, "person": person}
        out["channel"] = row.get("channel", "api")
        out["excluded"] = row.get("excluded", False)
        if out["channel"] not in RESPONSE_CHANNELS or type(out["excluded"]) is not bool:
            return None
        for key, low, high in (
            ("comment", 0, MAX_COMMENT),
            ("locale", 0, 35),
            ("idempotency_key", 1, 255),
        ):
            if key in row:
                value = row[key]
                if value is not None and not _text(value, low, high):
                    return None
                out[key] = value
        if "properties" in row:
            if row["properties"] is not None and not _props(row["properties"]):
                return None
            out["properties"] = row["properties"]
        if "created_at" in row:
            out["created_at"] = _created_at(row["created_at"])
        return out


def batch_row(index: int, loaded: dict[str, Any]) -> BatchRow:
    """A loaded row as the domain takes it."""
    return BatchRow(
        index=index,
        who=loaded["person"],
        answer=Answer(
            survey_id=loaded["survey_id"],
            score=loaded["score"],
            comment=loaded.get("comment"),
            channel=loaded.get("channel", "api"),
            locale=loaded.get("locale"),
            created_at=loaded.get("created_at"),
            properties=loaded.get("properties"),
            idempotency_key=loaded.get("idempotency_key"),
        ),
        excluded=loaded.get("excluded", False),
    )


def invalid_row(index: int, messages: Any) -> dict[str, Any]:
    fields_named = ", ".join(sorted(map(str, messages))) if isinstance(messages, dict) else ""
    return {
        "index": index,
        "status": 422,
        "id": None,
        "error": {
            "code": "invalid",
            "message": f"invalid fields: {fields_named}" if fields_named else "invalid answer",
            "details": messages if isinstance(messages, dict) else {"_schema": messages},
        },
    }


def row_result(result: RowResult) -> dict[str, Any]:
    if result.error is not None:
        exc = result.error
        error = {"code": exc.code, "message": exc.message, "details": exc.details}
        return {"index": result.index, "status": status_of(exc), "id": None, "error": error}
    status = 201 if result.created else 200
    return {"index": result.index, "status": status, "id": result.response_id, "error": None}
