"""Every error as JSON `{"error": {"code", "message", "details"}}`: the one place that maps
domain errors and HTTP exceptions to statuses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from surveys.database.errors import is_collision, is_foreign_key_violation, is_unique_violation
from surveys.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)

STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    Invalid: 422,
    Conflict: 409,
    Forbidden: 403,
}
CODE_OF_STATUS = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}
# What a client is told to wait before retrying a request that lost its database connection.
RETRY_AFTER_LOST_CONNECTION = "1"


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers=None
):
    body = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    body.status_code = status
    for key, value in (headers or {}).items():
        body.headers[key] = value
    return body


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def http_error(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    details: dict[str, Any] = {}
    message = data.get("message") or exc.description or exc.name
    code = CODE_OF_STATUS.get(status, "error")
    if messages:
        details = messages
        if status == 422:
            names = sorted(
                {name for loc in messages.values() if isinstance(loc, dict) for name in loc}
            )
            message = "invalid fields: " + ", ".join(names) if names else "invalid input"
        if status == 400 and "json" in messages:
            code, message = "malformed_json", "the request body is not valid JSON"
    if status == 413:
        message = "the request body is larger than this endpoint accepts"
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return error_response(status, code, message, details, headers)


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(status_of(exc), exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return http_error(exc)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception):
        # Last line of defence: schemas bound ids and numbers, but a value the database
        # cannot hold must still be the client's 422, not our 500.
        log.warning("value out of range for the database: %s", type(exc).__name__)
        return error_response(422, "invalid", "a value is out of range")

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    @app.errorhandler(OperationalError)
    def _concurrent(exc: Exception):
        # Last line of defence for races the domain does not name itself: a row changed or
        # deleted by a concurrent request, or a deadlock the database broke by aborting this
        # transaction. Each is the client's to retry, never our 500.
        if isinstance(exc, StaleDataError) or (
            isinstance(exc, IntegrityError) and is_unique_violation(exc)
        ):
            status, message = 409, "a concurrent request changed the same record; retry"
        elif isinstance(exc, IntegrityError) and is_foreign_key_violation(exc):
            status, message = 404, "a record this request refers to was deleted meanwhile"
        elif isinstance(exc, OperationalError) and is_collision(exc):
            status, message = 409, "the request collided with a concurrent one; retry"
        elif isinstance(exc, OperationalError) and exc.connection_invalidated:
            # The database went away under the request (a restart, a failover): SQLAlchemy
            # has marked the pool stale and the next request connects anew. The request's
            # transaction was not committed, unless the connection went during the commit
            # itself, whose outcome nobody can know: an answer sent with an Idempotency-Key
            # may always be sent again.
            log.warning("database connection lost: %s", type(exc.orig).__name__)
            return error_response(
                503,
                CODE_OF_STATUS[503],
                "the database connection was lost; retry",
                headers={"Retry-After": RETRY_AFTER_LOST_CONNECTION},
            )
        else:
            return _unexpected(exc)
        log.warning("concurrent change answered %s: %s", status, type(exc).__name__)
        return error_response(status, CODE_OF_STATUS[status], message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal", "an unexpected error occurred")
