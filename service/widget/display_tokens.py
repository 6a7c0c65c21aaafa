"""Display tokens: the signed, expiring name of one widget display (project, display, locale).

They are `service.tokens` tokens of purpose "display" (itsdangerous' URL-safe timed format),
so either side reads the other's. Signing runs on visits that show the survey; the serializer
is built once per app, and a display seen again within a minute gets the token it was given.
"""

from __future__ import annotations

import time

from flask import Flask, current_app
from itsdangerous import BadSignature

from service.tokens import DISPLAY_PURPOSE, serializer
from surveys.widget.visits import token_lifetime

# A returning visitor is answered with the token issued to the same display within the last
# minute: the same page views in a row need not be signed again, and a token given out is
# valid for days, so being up to a minute old makes no difference to its holder.
REUSE_SECONDS = 60
REUSE_LIMIT = 10_000


class InvalidToken(Exception):
    """Forged, altered, expired, or not a display token."""


class DisplayTokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = serializer(secret_key, DISPLAY_PURPOSE)
        self._max_age = int(token_lifetime().total_seconds())
        self._issued: dict[tuple[int, int, str], tuple[int, str]] = {}

    def sign(self, *, project_id: int, display_id: int, locale: str) -> str:
        now = int(time.time())
        key = (project_id, display_id, locale)
        issued = self._issued.get(key)
        if issued is not None and 0 <= now - issued[0] < REUSE_SECONDS:
            return issued[1]
        token = self._serializer.dumps({"d": display_id, "p": project_id, "l": locale})
        if len(self._issued) >= REUSE_LIMIT:
            self._issued = {}
        self._issued[key] = (now, token)
        return token

    def load(self, token: str, project_id: int) -> tuple[int, str | None]:
        """(display id, locale) of a token signed for this project."""
        try:
            payload = self._serializer.loads(token, max_age=self._max_age)
        except BadSignature as exc:  # SignatureExpired included
            raise InvalidToken(str(exc)) from exc
        if not isinstance(payload, dict) or payload.get("p") != project_id:
            raise InvalidToken("signed for another project")
        try:
            return int(payload["d"]), payload.get("l")
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("no display in the token") from exc


def init_app(app: Flask) -> None:
    app.extensions["widget_display_tokens"] = DisplayTokens(app.config["SECRET_KEY"])


def display_tokens() -> DisplayTokens:
    return current_app.extensions["widget_display_tokens"]
