"""Opaque cursors for keyset pages, and the `{"items", "next_cursor"}` answer with a Link."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from flask import current_app, jsonify, request
from marshmallow import Schema, fields, validate

from surveys.database.paging import Page
from surveys.errors import Invalid

MAX_LIMIT = 1000


def encode_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
        if not isinstance(after, int) or isinstance(after, bool):
            raise ValueError
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise Invalid("cursor is not valid", {"cursor": ["not a cursor from this API"]}) from exc
    return after


class PageArgs(Schema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "Items per page (1–1000)."},
    )
    cursor = fields.String(
        load_default=None, metadata={"description": "`next_cursor` of the previous page."}
    )


def page_response(page: Page[Any], schema: Schema):
    next_cursor = encode_cursor(page.next_after) if page.next_after is not None else None
    resp = jsonify({"items": schema.dump(page.items, many=True), "next_cursor": next_cursor})
    if next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        args["cursor"] = next_cursor
        # From PUBLIC_URL, never from the request's Host: a forged Host must not be reflected.
        base = current_app.config["FLYWHEEL"].public_url
        resp.headers["Link"] = f'<{base}{request.path}?{urlencode(args)}>; rel="next"'
    return resp


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """An OpenAPI schema for a page of `item`."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
    )
