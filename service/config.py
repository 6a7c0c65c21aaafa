"""Configuration from environment variables, with embedded defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.private_files import publish_once

ROOT = Path(__file__).resolve().parent.parent
# Tokens and identity secrets are only as strong as the key that signs them.
MIN_SECRET_KEY_LENGTH = 32
NEW_KEY_HINT = (
    "Set it to the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
)


class ConfigError(RuntimeError):
    """A setting the service refuses to start with."""


def _checked_secret_key(key: str, source: str, remedy: str) -> str:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"{source} is {len(key)} characters long; a secret key needs at least "
            f"{MIN_SECRET_KEY_LENGTH}. {remedy}"
        )
    return key


def _secret_key(var_dir: Path) -> str:
    """Generated once into var/ so sessions and tokens survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        # Several gunicorn workers start at once: one key wins, and none reads a half-written one.
        publish_once(path, secrets.token_urlsafe(48).encode())
    remedy = "Delete it to have a new one generated (links already sent stop working)."
    return _checked_secret_key(path.read_text().strip(), str(path), remedy)


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    secret_key: str
    public_url: str
    smtp_url: str | None
    mail_from: str
    redis_url: str | None
    # flask-limiter strings ("300/minute"); the widget's per key, per IP, and the API's per IP.
    rate_limit_widget_ip: str = "300/minute"
    rate_limit_widget_key: str = "30000/minute"
    rate_limit_api: str = "6000/minute"
    max_body_bytes: int = 1024 * 1024
    max_batch_body_bytes: int = 32 * 1024 * 1024
    # Email: an optional per-minute send cap shared by all dispatchers; score-link lifetime.
    send_cap_per_minute: int | None = None
    link_max_age_days: int = 30
    # The team app: how long a sign-in lasts unused; failed sign-ins per account before a
    # lockout; sign-in, reset and set-password attempts per IP; reset emails per address.
    app_session_days: int = 14
    sign_in_failures: str = "5/15 minutes"
    rate_limit_sign_in_ip: str = "10/minute;100/hour"
    reset_emails: str = "3/hour"
    # "Send a test to me" on a survey's page, per team member.
    test_emails: str = "3/minute;20/hour"
    # Webhooks: private, loopback and link-local targets only when the operator allows them
    # (on-premise, tests); each attempt's time limit; how often the worker looks for work.
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 1.0

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        env = {**os.environ, **{k: v for k, v in (overrides or {}).items() if isinstance(v, str)}}
        var_dir = Path(env.get("VAR_DIR") or ROOT / "var")
        database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'flywheel.db'}"
        if database_url.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; accept the common scheme too.
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        return cls(
            var_dir=var_dir,
            database_url=database_url,
            secret_key=_checked_secret_key(env["SECRET_KEY"], "SECRET_KEY", NEW_KEY_HINT)
            if env.get("SECRET_KEY")
            else _secret_key(var_dir),
            public_url=(env.get("PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "Flywheel <nps@localhost>",
            redis_url=env.get("REDIS_URL") or None,
            rate_limit_widget_ip=env.get("RATE_LIMIT_WIDGET_IP") or "300/minute",
            rate_limit_widget_key=env.get("RATE_LIMIT_WIDGET_KEY") or "30000/minute",
            rate_limit_api=env.get("RATE_LIMIT_API") or "6000/minute",
            send_cap_per_minute=int(env["SEND_CAP_PER_MINUTE"])
            if env.get("SEND_CAP_PER_MINUTE")
            else None,
            link_max_age_days=int(env.get("LINK_MAX_AGE_DAYS") or 30),
            app_session_days=int(env.get("APP_SESSION_DAYS") or 14),
            sign_in_failures=env.get("SIGN_IN_FAILURES") or "5/15 minutes",
            rate_limit_sign_in_ip=env.get("RATE_LIMIT_SIGN_IN_IP") or "10/minute;100/hour",
            reset_emails=env.get("RESET_EMAILS") or "3/hour",
            test_emails=env.get("TEST_EMAILS") or "3/minute;20/hour",
            webhook_allow_private=(env.get("WEBHOOK_ALLOW_PRIVATE") or "").lower()
            in ("1", "true", "yes"),
            webhook_timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS") or 10.0),
            webhook_poll_seconds=float(env.get("WEBHOOK_POLL_SECONDS") or 1.0),
        )
