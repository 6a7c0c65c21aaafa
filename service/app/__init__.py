"""The team app under /app: server-rendered pages for signed-in team members.

A page is a view on `bp` (service/app/shell.py) with a template under templates/app/ that
extends `app/base.html`, a line in `nav.py`, and, when members below an editor may not post
to it, an access mark from `access.py`.
"""

from __future__ import annotations

from flask import Flask

from service.app.shell import bp
from service.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    # The page modules add their routes to `bp` as they are imported.
    from service.app import (  # noqa: F401
        account,
        alerts,
        digest,
        errors,
        export,
        feed,
        friction,
        movement,
        overview,
        person,
        sessions,
        sign_in,
        survey_previews,
        surveys,
        throttle,
        triage,
        users,
        webhooks,
    )
    from service.app import settings as settings_page  # noqa: F401

    for key, value in throttle.config_defaults(settings).items():
        app.config.setdefault(key, value)
    app.extensions["flywheel_login"] = sessions.init_app(app, settings)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
