"""API authentication: the project's secret key as `Authorization: Bearer <key>`."""

from __future__ import annotations

from typing import Any

from flask import g

from service.db import db
from service.errors import error_response
from surveys.models import Project
from surveys.projects import attach, secret_key_row

BEARER = "bearer "


def authenticate_secret_key(header: str | None):
    """Before-request hook for `/api/v1`: sets g.project_row (see `current_project`) or
    answers 401.

    The publishable key never matches here: it can only do what the widget does.
    """
    if not header or not header.lower().startswith(BEARER):
        return error_response(
            401, "unauthorized", "send the project's secret key as 'Authorization: Bearer <key>'"
        )
    row = secret_key_row(db(), header[len(BEARER) :].strip())
    if row is None:
        return error_response(401, "unauthorized", "the key is not valid")
    g.project_row = row
    return None


def current_project() -> Project:
    """The key's project as an object of the request's session, made on first use from the
    row that authentication read."""
    project = g.get("project")
    if project is None:
        project = g.project = attach(db(), g.project_row)
    return project


def current_project_row() -> Any:
    """The key's project as authentication read it: a read-only row with `Project`'s column
    names, for a view whose domain call needs no object of the session (an answer)."""
    return g.project_row
