"""The widget's request bodies: a JSON object in, the values its marshmallow schema loads out.

Each schema is prepared once into a `BodyLoader`, which deserializes a valid body field by field
with the schema's own fields (same types, validators, defaults; a plain string with a length
range, perhaps on one line, is checked inline), skipping `Schema.load`'s per-call machinery: a
widget visit runs on every page view of the host product. The first invalid value hands the
body to `Schema.load`, so errors read exactly as before.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError, fields, missing, validate

from service.schemas.common import SingleLine
from service.strict_input import MalformedJson, UnstorableText, loads
from surveys.errors import Invalid
from surveys.plain_text import is_single_line


class BadBody(Exception):
    """The body is not a JSON object."""


def _string_bounds(field: fields.Field) -> tuple[int, int, bool] | None:
    """(min, max, one line) of a plain String field checked by Length ranges and perhaps
    `SingleLine` only, whose deserialization of a str is that str when its length is in range
    (and it is one line, if asked); None for any other."""
    if type(field) is not fields.String:
        return None
    low, high, one_line = 0, sys.maxsize, False
    for validator in field.validators:
        if type(validator) is SingleLine:
            one_line = True
            continue
        if type(validator) is not validate.Length or validator.equal is not None:
            return None
        low = max(low, validator.min or 0)
        high = min(high, sys.maxsize if validator.max is None else validator.max)
    return low, high, one_line


def _fits(bounds: tuple[int, int, bool], value: str) -> bool:
    return bounds[0] <= len(value) <= bounds[1] and (not bounds[2] or is_single_line(value))


class BodyLoader:
    """`Schema.load` for a schema without hooks and with unknown fields excluded."""

    def __init__(self, schema: Schema) -> None:
        # Hooks (pre/post load, schema validators) would be skipped below: refuse them.
        if any(type(schema).resolve_hooks().values()):
            raise TypeError(f"{type(schema).__name__} has hooks; load it with Schema.load")
        self.schema = schema
        self._fields: dict[str, tuple[str, fields.Field, tuple[int, int, bool] | None]] = {
            field.data_key or name: (name, field, _string_bounds(field))
            for name, field in schema.load_fields.items()
        }
        self._required = [name for name, field in schema.load_fields.items() if field.required]
        self._defaults = {
            name: field.load_default
            for name, field in schema.load_fields.items()
            if field.load_default is not missing
        }

    def load(self, body: dict[str, Any]) -> dict[str, Any]:
        loaded: dict[str, Any] = {}
        try:
            for key, value in body.items():
                found = self._fields.get(key)
                if found is None:  # unknown keys are excluded, as the schema does
                    continue
                name, field, bounds = found
                if bounds and type(value) is str and _fits(bounds, value):
                    loaded[name] = value
                else:
                    loaded[name] = field.deserialize(value, key, body)
        except ValidationError:
            return self.schema.load(body)  # raises with every field's messages
        if any(name not in loaded for name in self._required):
            return self.schema.load(body)
        for name, default in self._defaults.items():
            if name not in loaded:
                loaded[name] = default() if callable(default) else default
        return loaded


def _json_body() -> Any:
    """The body parsed as JSON (`strict_input.loads`) whatever its content type (widget.js
    sends text/plain, so that browsers skip the CORS preflight round trip); None when it is
    not JSON."""
    environ = request.environ
    length = environ.get("CONTENT_LENGTH", "")
    # A body of a stated length within the limit, which is every widget.js call, is read
    # straight from the server's stream: werkzeug's `get_data` first wraps the stream in
    # limiting readers, a measurable share of a visit. Anything else (no length, chunked,
    # over the limit: 413) goes through werkzeug.
    if length.isascii() and length.isdigit() and int(length) <= _limit():
        data = environ["wsgi.input"].read(int(length))
    else:
        data = request.get_data()
    try:
        return loads(data)
    except MalformedJson:
        return None


def _limit() -> int:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return sys.maxsize if limit is None else limit


def parse(loader: BodyLoader) -> dict[str, Any]:
    """The request's JSON object, loaded; `BadBody` or `Invalid` (422) when it is not one."""
    try:
        body = _json_body()
        if not isinstance(body, dict):
            raise BadBody()
        return loader.load(body)
    except UnstorableText as exc:
        if not isinstance(exc.value, dict):
            raise BadBody() from exc
        messages = exc.messages
    except ValidationError as exc:
        messages = exc.messages
    message = "invalid fields: " + ", ".join(sorted(map(str, messages)))
    raise Invalid(message, {"json": messages})
