"""Rate limits: per IP and per publishable key on `/w/v1`, a generous per-IP limit per endpoint
on `/api/v1`; in memory by default, in Redis when REDIS_URL is set (several nodes).

One before-request hook counts fixed windows itself (limits parses the settings and talks to
Redis): the same counters and storage keys flask-limiter kept, at a fraction of its
per-request cost, which matters on the widget's hot path.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass

from flask import Config, Flask, Request, Response, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string

from service.config import Settings
from service.errors import error_response
from service.widget import access
from service.widget.views import bp as widget_bp

KEY_PREFIX = "flywheel"


class MemoryCounters:
    """Fixed-window counters in this process's memory, the default without REDIS_URL: a dict
    under one lock, with the two calls of limits' storage interface used here. limits' own
    memory storage costs several times this per hit (and once started a timer thread per hit).
    Expired windows are ignored when read and swept out once a second."""

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        self._windows: dict[str, list[float]] = {}  # key -> [expires at, count]
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` in the key's current window (a new one of `expiry` seconds when
        none is open); the window's count."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._next_sweep = now + self.SWEEP_SECONDS
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                window = self._windows[key] = [now + expiry, 0]
            window[1] += amount
            return int(window[1])

    def get(self, key: str) -> int:
        window = self._windows.get(key)
        return int(window[1]) if window is not None and window[0] > time.time() else 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now when none is open)."""
        window = self._windows.get(key)
        now = time.time()
        return window[0] if window is not None and window[0] > now else now


@dataclass(frozen=True)
class Limit:
    item: RateLimitItem
    key_head: str
    key_tail: str

    def key(self, who: str, scope: str) -> str:
        """`item.key_for(KEY_PREFIX, who, scope)`, the key flask-limiter counted under, without
        its per-part conversions."""
        return f"{self.key_head}{who}/{scope}{self.key_tail}"


@functools.lru_cache(maxsize=64)
def parse_limits(text: str) -> tuple[Limit, ...]:
    """`"300/minute"` (or `"10/second;300/minute"`) parsed once: the settings are read per
    request, so that a changed config takes effect at once."""
    limits = []
    for item in parse_many(text):
        # key_for's layout, made once with placeholders and cut where who and scope go.
        head, tail = item.key_for(KEY_PREFIX, "\0", "\0").split("\0/\0")
        limits.append(Limit(item, head, tail))
    return tuple(limits)


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
        # Redis through limits' storage: several nodes count together.
        self.storage = storage_from_string(redis_url) if redis_url else MemoryCounters()

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
            for limit in parse_limits(self.config[setting]):
                # What limits' fixed-window strategy does.
                key = limit.key(who, scope)
                if self.storage.incr(key, limit.item.get_expiry()) > limit.item.amount:
                    return self._too_many(limit.item, key)
        return None

    def _too_many(self, item: RateLimitItem, key: str) -> Response:
        window = item.get_expiry()
        reset_at = self.storage.get_expiry(key)
        # The window's end as the storage reports it; never longer than the window itself.
        retry_after = str(min(window, max(1, math.ceil(reset_at - time.time()))))
        return error_response(
            429,
            "rate_limited",
            f"too many requests: the limit is {item}; retry after {retry_after} s",
            {"limit": str(item)},
            headers={"Retry-After": retry_after},
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
