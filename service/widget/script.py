"""`GET /widget.js`: the script a host page embeds, versioned, ETagged and served gzipped."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request

SCRIPT_PATH = Path(__file__).resolve().parent.parent / "static" / "widget.js"
# The unversioned URL is revalidated often (a fix reaches every host page within minutes);
# `?v=<version>` URLs never change, so they are cached for a year.
SHORT_MAX_AGE = 300
LONG_MAX_AGE = 31_536_000

bp = Blueprint("widget_script", __name__)


@dataclass(frozen=True)
class Script:
    plain: bytes
    gzipped: bytes
    version: str

    @classmethod
    def load(cls, path: Path = SCRIPT_PATH) -> Script:
        plain = path.read_bytes()
        # mtime=0: the same bytes give the same gzip (and ETag) on every node.
        gzipped = gzip.compress(plain, compresslevel=9, mtime=0)
        return cls(plain, gzipped, hashlib.sha256(plain).hexdigest()[:16])


def init_app(app: Flask) -> None:
    app.extensions["widget_script"] = Script.load()


@bp.get("/widget.js")
def widget_js():
    script: Script = current_app.extensions["widget_script"]
    use_gzip = "gzip" in (request.headers.get("Accept-Encoding") or "").lower()
    etag = script.version + ("-gz" if use_gzip else "")
    response = Response(mimetype="text/javascript")
    response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    versioned = request.args.get("v") == script.version
    response.cache_control.public = True
    response.cache_control.max_age = LONG_MAX_AGE if versioned else SHORT_MAX_AGE
    if versioned:
        response.cache_control.immutable = True
    response.headers["X-Widget-Version"] = script.version
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if etag in request.if_none_match:
        response.status_code = 304
        return response
    response.set_data(script.gzipped if use_gzip else script.plain)
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    return response
