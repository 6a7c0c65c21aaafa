"""Who is signed in: the team app's session cookie (only under /app) and Flask-Login's user."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, Response, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin

from service.config import Settings
from service.db import db
from surveys.accounts import totp
from surveys.accounts.users import load_user
from surveys.models import User
from surveys.sealed import Sealer

PREFIX = "/app"


def totp_sealer() -> Sealer:
    """Seals and opens two-factor seeds under the app's SECRET_KEY."""
    return totp.sealer(current_app.config["SECRET_KEY"])


class TeamAppSessions(SecureCookieSessionInterface):
    """A signed cookie session for the team app only. The API and the widget authenticate
    every call and the email pages carry signed tokens, so nothing else opens or saves one:
    Flask would otherwise look for and sign a cookie on every request of the hot paths."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        if self.is_null_session(session):
            return None
        return super().save_session(app, session, response)


class SignedIn(UserMixin):
    """Flask-Login's view of a user. The id it keeps in the cookie carries the user's session
    version, so a password change or "sign out everywhere" ends every older cookie."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}.{self.user.session_version}"


def _load(cookie_id: str) -> SignedIn | None:
    user_id, _, version = cookie_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = load_user(db(), int(user_id), int(version))
    return SignedIn(user) if user is not None else None


def init_app(app: Flask, settings: Settings) -> LoginManager:
    app.session_interface = TeamAppSessions()
    app.config.update(
        SESSION_COOKIE_NAME="flywheel_app",
        SESSION_COOKIE_PATH=PREFIX,
        # A plain-http PUBLIC_URL is a laptop: a Secure cookie would never come back there.
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.app_session_days),
        # Only a response that changed the session sets its cookie: a stylesheet or icon
        # answered after the next page would otherwise write back the older session over the
        # page's (a two-factor secret set by one page was lost that way).
        SESSION_REFRESH_EACH_REQUEST=False,
        # The form token lives as long as the signed-in session, not one hour.
        WTF_CSRF_TIME_LIMIT=None,
    )
    manager = LoginManager()
    manager.login_view = "app.sign_in"
    manager.login_message = "Sign in to see that page."
    manager.login_message_category = "info"
    manager.user_loader(_load)
    # Attached as `init_app` would attach it, without its app-wide after-request hook: that
    # hook only renews remember-me cookies, which the team app does not use, and it would
    # cost every API and widget request some microseconds.
    app.login_manager = manager  # type: ignore[attr-defined]
    return manager
