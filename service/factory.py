"""The Flask app factory: config, database, API blueprints, the team app, error handling and
CLI."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from service import db as dbmod
from service import errors
from service.config import Settings
from service.openapi import configure


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with keys in insertion order, and the compact encoder of its answers built
    once: `json.dumps` with arguments builds a new `json.JSONEncoder` on every call."""

    sort_keys = False
    COMPACT = {"separators": (",", ":")}

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._compact = json.JSONEncoder(
            default=self.default, ensure_ascii=self.ensure_ascii, separators=(",", ":")
        ).encode

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # `response()` asks for exactly this outside debug mode: every JSON answer.
        if kwargs == self.COMPACT:
            return self._compact(obj)
        return super().dumps(obj, **kwargs)


class FlywheelApp(Flask):
    json_provider_class = JSONProvider


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

    from service.api import alert_rules as alert_rules_api
    from service.api import export as export_api
    from service.api import invitations, metrics, people, project, responses, surveys, themes
    from service.api import movement as movement_api
    from service.api import triage as triage_api
    from service.api import webhooks as webhooks_api
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
        webhooks_api,
        alert_rules_api,
        triage_api,
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
