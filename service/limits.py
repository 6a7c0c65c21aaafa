"""Rate limits (flask-limiter): per IP and per publishable key on `/w/v1`, a generous per-IP
default on `/api/v1`; in memory by default, in Redis when REDIS_URL is set (several nodes)."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

from service.config import Settings
from service.errors import error_response
from service.widget import access
from service.widget.views import bp as widget_bp
from surveys.keys import hash_key


class SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage without a timer thread started per hit: expired counters are
    already ignored when read, so sweeping them out of memory once a second is enough."""

    STORAGE_SCHEME = ["flywheel-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, **options) -> None:
        super().__init__(uri, **options)
        self._next_sweep = 0.0

    # Overrides the name-mangled private hook that MemoryStorage calls on every hit.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


def _config(name: str):
    return lambda: current_app.config[name]


def publishable_key_id() -> str:
    """Limits count per key, stored under its hash: Redis never holds a usable key."""
    key = access.publishable_key()
    return "key:" + hash_key(key)[:24] if key else "key:none"


def _not_api() -> bool:
    return not request.path.startswith("/api/v1/")


def _too_many(limiter: Limiter):
    def handler(exc: RateLimitExceeded):
        window = exc.limit.limit.get_expiry()
        current = limiter.current_limit
        # The window's end as the storage reports it; never longer than the window itself.
        wait = current.window[0] - time.time() if current is not None else window
        retry_after = str(min(window, max(1, math.ceil(wait))))
        return error_response(
            429,
            "rate_limited",
            f"too many requests: the limit is {exc.description}; retry after {retry_after} s",
            {"limit": exc.description},
            headers={"Retry-After": retry_after},
        )

    return handler


def init_app(app: Flask, settings: Settings) -> Limiter:
    app.config.setdefault("RATE_LIMIT_WIDGET_IP", settings.rate_limit_widget_ip)
    app.config.setdefault("RATE_LIMIT_WIDGET_KEY", settings.rate_limit_widget_key)
    app.config.setdefault("RATE_LIMIT_API", settings.rate_limit_api)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "flywheel-memory://",
        strategy="fixed-window",
        key_prefix="flywheel",
        default_limits=[_config("RATE_LIMIT_API")],
        default_limits_exempt_when=_not_api,
        headers_enabled=False,
    )
    # One budget for all of `/w/v1` (not one per endpoint). Preflights are cached by the
    # browser and cost nothing: only POSTs count.
    limiter.shared_limit(_config("RATE_LIMIT_WIDGET_IP"), "widget-ip", methods=["POST"])(widget_bp)
    limiter.shared_limit(
        _config("RATE_LIMIT_WIDGET_KEY"),
        "widget-key",
        key_func=publishable_key_id,
        methods=["POST"],
    )(widget_bp)
    app.register_error_handler(RateLimitExceeded, _too_many(limiter))
    app.extensions["flywheel_limiter"] = limiter
    return limiter
