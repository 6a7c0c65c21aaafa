"""API authentication: the project's secret key as `Authorization: Bearer <key>`."""

from __future__ import annotations

from flask import g

from service.db import db
from service.errors import error_response
from surveys.models import Project
from surveys.projects import find_by_secret_key

BEARER = "bearer "


def authenticate_secret_key(header: str | None):
    """Before-request hook for `/api/v1`: sets g.project or answers 401.

    The publishable key never matches here: it can only do what the widget does.
    """
    if not header or not header.lower().startswith(BEARER):
        return error_response(
            401, "unauthorized", "send the project's secret key as 'Authorization: Bearer <key>'"
        )
    project = find_by_secret_key(db(), header[len(BEARER) :].strip())
    if project is None:
        return error_response(401, "unauthorized", "the key is not valid")
    g.project = project
    return None


def current_project() -> Project:
    return g.project
