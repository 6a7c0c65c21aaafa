"""The Flask app factory: config, database, API blueprints, the team app, error handling and
CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from service import db as dbmod
from service import errors
from service.config import Settings
from service.openapi import configure


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, in insertion order, with the compact encoder built once: the default
    provider builds a new `json.JSONEncoder` for every answer."""

    sort_keys = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._encode = json.JSONEncoder(
            default=self.default, ensure_ascii=self.ensure_ascii, separators=(",", ":")
        ).encode

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self._app.debug:  # indented, as Flask answers in debug mode
            return super().response(*args, **kwargs)
        body = self._encode(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body + "\n", mimetype=self.mimetype)


class FlywheelApp(Flask):
    json_provider_class = JSONProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks `inspect` whether every hook and the view are coroutine functions on
        # every request; a function's answer never changes, so it is asked once.
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env(overrides)
    app = FlywheelApp(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        FLYWHEEL=settings,
        JSON_SORT_KEYS=False,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    dbmod.init_app(app, settings.database_url)
    errors.register(app)
    api = configure(app)

    from service.api import export as export_api
    from service.api import invitations, metrics, people, project, responses, surveys, themes
    from service.api import movement as movement_api
    from service.pages import bp as pages_bp

    for module in (
        project,
        people,
        surveys,
        responses,
        metrics,
        themes,
        invitations,
        export_api,
        movement_api,
    ):
        api.register_blueprint(module.bp)
    app.register_blueprint(pages_bp)

    from service import limits
    from service.widget import register as register_widget
    from service.widget.openapi import document as document_widget

    register_widget(app)
    document_widget(api, app)
    limits.init_app(app, settings)

    from service import app as team_app

    team_app.init_app(app, settings)

    from service.cli import register as register_cli

    register_cli(app)

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
