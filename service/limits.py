"""Rate limits: per IP and per publishable key on `/w/v1`, a generous per-IP limit per endpoint
on `/api/v1`; in memory by default, in Redis when REDIS_URL is set (several nodes).

One before-request hook counts fixed windows with the limits library's fixed-window strategy
over Redis or, on one node, `WindowCounts` (a storage written to the library's documented
extension point, `limits.storage.Storage`); the team app's sign-in throttle counts through the
same one.
"""

from __future__ import annotations

import functools
import math
import threading
import time

from flask import Config, Flask, Request, Response, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from service.config import Settings
from service.errors import error_response
from service.widget import access
from service.widget.views import bp as widget_bp

KEY_PREFIX = "flywheel"
SWEEP_SECONDS = 30.0


class WindowCounts(Storage):
    """Fixed-window counters in this process, for the fixed-window strategy only.

    The library's own `memory://` storage expires its keys from a `threading.Timer` of 10 ms
    that it starts again on the next hit once the last one has run: a new thread every few
    requests on a busy worker (about 2 ms each on a loaded machine, the largest single cost of
    a returning widget visit in process profiles). Here an expired window is simply
    overwritten when it is next counted, and expired keys are swept inline at most every
    `SWEEP_SECONDS`; no thread.
    """

    STORAGE_SCHEME = ["flywheel-memory"]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, window's end)
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._windows[key] = (count, ends)
            return count

    def get(self, key: str) -> int:
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        _, ends = self._windows.get(key, (0, 0.0))
        return ends if ends > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _sweep(self, now: float) -> None:
        """Drop ended windows (called holding the lock): memory stays bounded by the callers
        of the last `SWEEP_SECONDS` plus the longest window."""
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        self._next_sweep = now + SWEEP_SECONDS


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
        # Redis: several nodes count together.
        self.storage = storage_from_string(redis_url) if redis_url else WindowCounts()
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
