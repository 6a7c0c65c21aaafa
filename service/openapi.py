"""The OpenAPI description (flask-smorest) and its docs page, with assets served offline."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api

from service.converters import IdConverter
from service.errors import ErrorSchema, http_error
from service.schemas.common import MAX_ID

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DESCRIPTION = """Flywheel: NPS surveys by email and in-product widget, segments, movement,
friction points and export.

Authenticate with the project's secret key: `Authorization: Bearer fw_sk_...`. Every error
is JSON `{"error": {"code", "message", "details"}}`. Lists use cursor pagination: `limit`
(1–1000, default 50) and `cursor` (the previous page's `next_cursor`); a `Link` header with
`rel="next"` points to the next page. Request bodies are limited to 1 MiB (32 MiB for
`/people/batch`); larger ones get 413. A request that lost its database connection (a
restart of the database under it) gets 503 `unavailable` with `Retry-After`: send it again,
with an `Idempotency-Key` for an answer."""


def schema_name(schema) -> str:
    """PersonSchema -> Person; a partial (PATCH) variant gets its own name."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if getattr(schema, "partial", False):
        name += "Patch"
    return name


class FlywheelApi(Api):
    """Errors in our envelope, documented with our schema."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_error(error)


def configure(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Flywheel API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": DESCRIPTION},
            "components": {
                "securitySchemes": {
                    "secretKey": {"type": "http", "scheme": "bearer", "bearerFormat": "fw_sk_..."}
                }
            },
            "security": [{"secretKey": []}],
        },
    )
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    # Every <int:...> in a route is a bounded id: registered before any blueprint is added.
    app.url_map.converters["int"] = IdConverter
    api = FlywheelApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    api.register_converter(
        IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    )

    assets = Blueprint("docs_assets", __name__)

    @assets.route("/api/docs/assets/<path:filename>")
    def docs_asset(filename: str):
        return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)

    app.register_blueprint(assets)
    return api
