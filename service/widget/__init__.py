"""The embeddable widget's web layer: `/w/v1/*` for the script, and `GET /widget.js` itself."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from service.widget import access, display_tokens, script, views

    access.init_app(app)
    display_tokens.init_app(app)
    script.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(script.bp)
