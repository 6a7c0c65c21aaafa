"""The overview: where signing in lands; the project's figures come here."""

from __future__ import annotations

from flask import render_template

from service.app.shell import bp, team


@bp.get("/")
def overview():  # noqa: ANN201
    return render_template("app/overview.html", project=team().project)
