"""Sign-in throttling: a lockout after repeated failures on one account, a budget of attempts
per IP, and a cap on reset emails per address; counted where the app's rate limits count
(memory, or Redis when REDIS_URL is set, so every node sees the same lockout)."""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app, request

from service.config import Settings
from service.limits import Limit, parse_limits, remote_address


class Throttled(Exception):
    """Over a limit: `retry_after` seconds until it lifts; `scope` says which limit."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(scope)
        self.scope, self.retry_after = scope, retry_after


def _storage():  # noqa: ANN202 (MemoryCounters or limits' Redis storage: the same four calls)
    return current_app.extensions["flywheel_limits"].storage


def _account(email: str) -> str:
    # Counted under a hash: the counter store never holds the address.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _retry_after(key: str, limit: Limit) -> int:
    left = _storage().get_expiry(key) - time.time()
    return int(min(limit.item.get_expiry(), max(1, math.ceil(left))))


def _count(setting: str, who: str, scope: str) -> None:
    """Count one attempt against every limit of the setting; `Throttled` over any."""
    storage = _storage()
    for limit in parse_limits(current_app.config[setting]):
        key = limit.key(who, scope)
        if storage.incr(key, limit.item.get_expiry()) > limit.item.amount:
            raise Throttled(scope, _retry_after(key, limit))


def count_attempt() -> None:
    """Every sign-in, code, reset or set-password post from this IP."""
    _count("RATE_LIMIT_SIGN_IN_IP", remote_address(request), "sign-in-ip")


def check_account(email: str) -> None:
    """`Throttled` while the account is locked out after too many failures."""
    storage = _storage()
    for limit in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        key = limit.key(_account(email), "sign-in-failures")
        if storage.get(key) >= limit.item.amount:
            raise Throttled("sign-in-failures", _retry_after(key, limit))


def record_failure(email: str) -> None:
    storage = _storage()
    for limit in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        storage.incr(limit.key(_account(email), "sign-in-failures"), limit.item.get_expiry())


def record_success(email: str) -> None:
    storage = _storage()
    for limit in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        storage.clear(limit.key(_account(email), "sign-in-failures"))


def count_reset_email(email: str) -> None:
    """`Throttled` when the address was sent enough reset emails for now."""
    _count("RESET_EMAILS", _account(email), "reset-emails")


def config_defaults(settings: Settings) -> dict[str, str]:
    """The defaults for the app's config, where tests and operators may change them."""
    return {
        "SIGN_IN_FAILURES": settings.sign_in_failures,
        "RATE_LIMIT_SIGN_IN_IP": settings.rate_limit_sign_in_ip,
        "RESET_EMAILS": settings.reset_emails,
    }
