"""Sign-in throttling: a lockout after repeated failures on one account, a budget of attempts
per IP, and a cap on reset emails per address; also a cap on survey test emails per team
member. Counted where the app's rate limits count
(memory, or Redis when REDIS_URL is set, so every node sees the same lockout)."""

from __future__ import annotations

import hashlib

from flask import current_app, request
from limits.strategies import FixedWindowRateLimiter

from service.config import Settings
from service.limits import KEY_PREFIX, parse_limits, remote_address, retry_after


class Throttled(Exception):
    """Over a limit: `retry_after` seconds until it lifts; `scope` says which limit."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(scope)
        self.scope, self.retry_after = scope, retry_after


def _limiter() -> FixedWindowRateLimiter:
    return current_app.extensions["flywheel_limits"].limiter


def _account(email: str) -> str:
    # Counted under a hash: the counter store never holds the address.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _count(setting: str, who: str, scope: str) -> None:
    """Count one attempt against every limit of the setting; `Throttled` over any."""
    limiter = _limiter()
    for item in parse_limits(current_app.config[setting]):
        if not limiter.hit(item, KEY_PREFIX, who, scope):
            raise Throttled(scope, retry_after(limiter, item, who, scope))


def count_attempt() -> None:
    """Every sign-in, code, reset or set-password post from this IP."""
    _count("RATE_LIMIT_SIGN_IN_IP", remote_address(request), "sign-in-ip")


def check_account(email: str) -> None:
    """`Throttled` while the account is locked out after too many failures."""
    limiter, who = _limiter(), _account(email)
    for item in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        if not limiter.test(item, KEY_PREFIX, who, "sign-in-failures"):
            raise Throttled("sign-in-failures", retry_after(limiter, item, who, "sign-in-failures"))


def record_failure(email: str) -> None:
    limiter, who = _limiter(), _account(email)
    for item in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        limiter.hit(item, KEY_PREFIX, who, "sign-in-failures")


def record_success(email: str) -> None:
    limiter, who = _limiter(), _account(email)
    for item in parse_limits(current_app.config["SIGN_IN_FAILURES"]):
        limiter.clear(item, KEY_PREFIX, who, "sign-in-failures")


def count_reset_email(email: str) -> None:
    """`Throttled` when the address was sent enough reset emails for now."""
    _count("RESET_EMAILS", _account(email), "reset-emails")


def count_test_email(user_id: int) -> None:
    """`Throttled` when this team member has sent enough survey test emails for now."""
    _count("TEST_EMAILS", f"user:{user_id}", "test-emails")


def config_defaults(settings: Settings) -> dict[str, str]:
    """The defaults for the app's config, where tests and operators may change them."""
    return {
        "SIGN_IN_FAILURES": settings.sign_in_failures,
        "RATE_LIMIT_SIGN_IN_IP": settings.rate_limit_sign_in_ip,
        "RESET_EMAILS": settings.reset_emails,
        "TEST_EMAILS": settings.test_emails,
    }
