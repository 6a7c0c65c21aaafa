"""Who may call `/w/v1`: the publishable key (cached briefly per key hash) and CORS per project.

The key travels in the query string (`?key=fw_pk_...`) so that a CORS preflight, which carries
no custom headers, still names its project; the access log redacts `key=`. `X-Flywheel-Key`
works too for calls from a server.
"""

from __future__ import annotations

import re
import threading
import time
from typing import NamedTuple

from flask import Flask, Response, current_app, request

from service.caches import EXTENSION as CACHES
from service.caches import caches_of
from service.db import db
from service.errors import error_response
from surveys.keys import PUBLISHABLE_PREFIX, hash_key
from surveys.memo import memo
from surveys.projects import find_by_publishable_key, normalise_origin
from surveys.widget.visits import WidgetProject

KEY_HEADER = "X-Flywheel-Key"
KEY_ENVIRON = "HTTP_X_FLYWHEEL_KEY"
PREFLIGHT_MAX_AGE = "600"
CACHE_LIMIT = 10_000
# What widget.js sends: `key=` and a URL-safe key, nothing to unquote.
PLAIN_KEY_QUERY = re.compile(r"key=([A-Za-z0-9_-]+)")
# Where a request keeps its `CallerKey` once worked out, and its project once authenticated:
# in the WSGI environ, which the hooks and views read through one context lookup.
CALLER_KEY_ENVIRON = "flywheel.caller_key"
PROJECT_ENVIRON = "flywheel.widget_project"


class CallerKey(NamedTuple):
    key: str  # "" when the request names none
    digest: str  # the key's hash, as stored; "" without a key


class KeyCache:
    """Project settings by publishable key hash for a few seconds: a page view costs no
    project query. A rotated key or changed origins take effect within `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, WidgetProject | None]] = {}
        self._lock = threading.Lock()

    def get(self, caller: CallerKey) -> WidgetProject | None:
        key, digest = caller
        now = time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > now:
            return entry[1]
        found = find_by_publishable_key(db(), key)
        project = WidgetProject.of(found) if found is not None else None
        with self._lock:
            if len(self._entries) >= CACHE_LIMIT:
                self._entries.clear()
            self._entries[digest] = (now + self.ttl, project)
        return project

    def size(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def init_app(app: Flask, ttl: float = 5.0) -> None:
    caches_of(app).register("widget_keys", KeyCache(ttl))


def caller_key(environ: dict | None = None) -> CallerKey:
    """The request's publishable key and its hash, worked out once per request: the rate
    limits count per key hash before authentication looks the same hash up."""
    if environ is None:
        environ = request.environ
    found = environ.get(CALLER_KEY_ENVIRON)
    if found is None:
        found = environ[CALLER_KEY_ENVIRON] = _caller_key(_publishable_key(environ))
    return found


@memo(maxsize=1024)
def _caller_key(key: str) -> CallerKey:
    # A handful of publishable keys call all day: each is hashed once, not on every call.
    return CallerKey(key, hash_key(key) if key else "")


def _publishable_key(environ: dict) -> str:
    # The script's own query string is read as it is; anything else is parsed by werkzeug
    # (building `request.args` is a measurable share of a widget visit).
    plain = PLAIN_KEY_QUERY.fullmatch(environ.get("QUERY_STRING", ""))
    if plain is not None:
        return plain.group(1)
    key = request.args.get("key") or environ.get(KEY_ENVIRON) or ""
    return key.strip()


def widget_project() -> WidgetProject:
    return request.environ[PROJECT_ENVIRON]


def _project_of(caller: CallerKey) -> WidgetProject | None:
    if not caller.key.startswith(PUBLISHABLE_PREFIX):
        return None
    return current_app.extensions[CACHES]["widget_keys"].get(caller)


def _allowed(project: WidgetProject, origin: str) -> bool:
    return normalise_origin(origin) in project.allowed_origins


def authenticate() -> Response | None:
    """Before-request hook of `/w/v1`: 401 without a valid publishable key, 403 from an origin
    the project has not allowed, and the answer to a CORS preflight."""
    environ = request.environ
    project = _project_of(caller_key(environ))
    if project is None:
        return error_response(
            401, "unauthorized", "send the project's publishable key as ?key=fw_pk_..."
        )
    environ[PROJECT_ENVIRON] = project
    # From the environ: `request.headers.get` builds (and swallows) a KeyError when the
    # header is absent, as it is on every same-origin or server-side call.
    origin = environ.get("HTTP_ORIGIN")
    if origin and not _allowed(project, origin):
        return error_response(
            403,
            "origin_not_allowed",
            "this origin is not in the project's allowed_origins",
            {"origin": origin},
        )
    if environ["REQUEST_METHOD"] == "OPTIONS":
        answer = Response(status=204)
        answer.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        answer.headers["Access-Control-Allow-Headers"] = "Content-Type, " + KEY_HEADER
        answer.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return answer
    return None


def add_cors_headers(response: Response) -> Response:
    """After-request hook: only an allowed origin may read the answer (errors included)."""
    # Set directly rather than through `response.vary`, which parses and re-serialises the
    # header on every answer.
    headers = response.headers
    headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
    environ = request.environ
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return response
    project = environ.get(PROJECT_ENVIRON)
    if project is None:
        # A 429 is answered before authentication ran; the browser must still be able to read it.
        project = _project_of(caller_key(environ))
    if project is not None and _allowed(project, origin):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response
