"""What every API blueprint shares: the secret-key check and the error responses it documents."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from service.auth import authenticate_secret_key


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix="/api/v1", description=description)

    @bp.before_request
    def _auth():
        if request.method == "OPTIONS":
            return None
        return authenticate_secret_key(request.headers.get("Authorization"))

    return bp
