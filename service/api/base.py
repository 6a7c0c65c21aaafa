"""What every API blueprint shares: the secret-key check, strict reading of bodies and query
strings, and the error responses it documents."""

from __future__ import annotations

from typing import Any

from flask import Request, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from service.auth import authenticate_secret_key
from service.strict_input import MalformedJson, UnstorableText, field_problems, loads


class StrictParser(FlaskParser):
    """webargs' Flask parser reading bodies with `strict_input.loads` (no NaN, no 500 for a
    number or nesting Python's parser cannot take) and refusing unstorable text in bodies and
    query strings as invalid fields."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        try:
            return loads(data)
        except MalformedJson as exc:
            abort(400, exc=exc, messages={"json": ["Invalid JSON body."]})
        except UnstorableText as exc:
            raise ValidationError(exc.messages) from exc

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        problems = field_problems(req.args)
        if problems:
            raise ValidationError(problems)
        return super().load_querystring(req, schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    bp = ApiBlueprint(name, import_name, url_prefix="/api/v1", description=description)

    @bp.before_request
    def _auth():
        if request.method == "OPTIONS":
            return None
        return authenticate_secret_key(request.headers.get("Authorization"))

    return bp
