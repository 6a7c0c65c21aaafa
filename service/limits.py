"""Rate limits: per IP and per publishable key on `/w/v1`, a generous per-IP limit per endpoint
on `/api/v1`; in memory by default, in Redis when REDIS_URL is set (several nodes).

One before-request hook counts fixed windows with the limits library's fixed-window strategy
over its Redis storage, or over `LocalCounts` (`service/rate_counts.py`, a storage plugged in
through the library's extension point) in one process; the team app's sign-in throttle counts
through the same one.
"""

from __future__ import annotations

import functools
import math
import time

from flask import Config, Flask, Request, Response, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from service.config import Settings
from service.errors import error_response
from service.rate_counts import LocalCounts
from service.widget import access
from service.widget.views import bp as widget_bp

KEY_PREFIX = "flywheel"


@functools.lru_cache(maxsize=64)
def parse_limits(text: str) -> tuple[RateLimitItem, ...]:
    """`"300/minute"` (or `"10/second;300/minute"`) parsed once: the settings are read per
    request, so that a changed config takes effect at once."""
    return tuple(parse_many(text))


def retry_after(limiter: FixedWindowRateLimiter, item: RateLimitItem, who: str, scope: str) -> int:
    """Seconds until the window of `item` for (who, scope) ends; never longer than the window."""
    reset_at = limiter.get_window_stats(item, KEY_PREFIX, who, scope).reset_time
    return int(min(item.get_expiry(), max(1, math.ceil(reset_at - time.time()))))


def remote_address(req: Request) -> str:
    return req.remote_addr or "127.0.0.1"


def publishable_key_id() -> str:
    """Limits count per key, stored under its hash: Redis never holds a usable key."""
    caller = access.caller_key()
    return "key:" + caller.digest[:24] if caller.key else "key:none"


class RateLimits:
    """The limits of one app, counted in fixed windows, checked before each request."""

    def __init__(self, config: Config, redis_url: str | None) -> None:
        # Read per request: tests and operators may change the limits of a running app.
        self.config = config
        # Redis: several nodes count together. Otherwise counters of this process, without the
        # library's `memory://` expiry thread (see `service.rate_counts`).
        self.storage = storage_from_string(redis_url) if redis_url else LocalCounts()
        self.limiter = FixedWindowRateLimiter(self.storage)

    def _budgets(self, req: Request) -> list[tuple[str, str, str]]:
        """(setting, who, scope) of every limit this request counts against."""
        endpoint = req.endpoint
        if endpoint is None:  # no route: a 404 or 405 costs nothing to answer
            return []
        if req.blueprint == widget_bp.name:
            # One budget for all of `/w/v1`, not one per endpoint. Preflights are cached by
            # the browser and cost nothing: only POSTs count.
            if req.method != "POST":
                return []
            return [
                ("RATE_LIMIT_WIDGET_IP", remote_address(req), "widget-ip"),
                ("RATE_LIMIT_WIDGET_KEY", publishable_key_id(), "widget-key"),
            ]
        if req.path.startswith("/api/v1/"):
            return [("RATE_LIMIT_API", remote_address(req), endpoint)]
        return []

    def check(self) -> Response | None:
        """Before-request hook: count the request; 429 with Retry-After over a limit (the
        first limit breached stops the count, as before)."""
        # The request itself, not its proxy: it is read several times below.
        for setting, who, scope in self._budgets(request._get_current_object()):
            for item in parse_limits(self.config[setting]):
                if not self.limiter.hit(item, KEY_PREFIX, who, scope):
                    return self._too_many(item, who, scope)
        return None

    def _too_many(self, item: RateLimitItem, who: str, scope: str) -> Response:
        seconds = str(retry_after(self.limiter, item, who, scope))
        return error_response(
            429,
            "rate_limited",
            f"too many requests: the limit is {item}; retry after {seconds} s",
            {"limit": str(item)},
            headers={"Retry-After": seconds},
        )


def init_app(app: Flask, settings: Settings) -> RateLimits:
    app.config.setdefault("RATE_LIMIT_WIDGET_IP", settings.rate_limit_widget_ip)
    app.config.setdefault("RATE_LIMIT_WIDGET_KEY", settings.rate_limit_widget_key)
    app.config.setdefault("RATE_LIMIT_API", settings.rate_limit_api)
    limits = RateLimits(app.config, settings.redis_url)
    # App-level, so it runs before the widget's authentication: an over-limit caller costs
    # no key lookup.
    app.before_request(limits.check)
    app.extensions["flywheel_limits"] = limits
    return limits
