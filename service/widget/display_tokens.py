"""Display tokens: the signed, expiring name of one widget display (project, display, locale).

itsdangerous' URL-safe timed format with the salt `service.tokens` gives purpose "display", so
tokens issued before stay valid, and itsdangerous reads them. Signing runs on every visit that
shows the survey, so it is done here in that format with the key derived once: itsdangerous'
`dumps` builds a signer, derives the key and tries zlib on every call, which together cost
several times the HMAC itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

from surveys.widget.visits import token_lifetime

SALT = "flywheel.display"
# A returning visitor is answered with the token issued to the same display within the last
# minute: the same page views in a row need not be signed again, and a token given out is
# valid for days, so being up to a minute old makes no difference to its holder.
REUSE_SECONDS = 60
REUSE_LIMIT = 10_000


class InvalidToken(Exception):
    """Forged, altered, expired, or not a display token."""


class DisplayTokens:
    def __init__(self, secret_key: str) -> None:
        # hashlib.sha1 itself (itsdangerous' default is a wrapper around it) lets hmac take
        # its C path: the same signatures, fewer steps.
        self._serializer = URLSafeTimedSerializer(
            secret_key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha1}
        )
        self._key = self._serializer.make_signer().derive_key()
        self._max_age = int(token_lifetime().total_seconds())
        # itsdangerous' compact JSON, with the encoder built once.
        self._json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._issued: dict[tuple[int, int, str], tuple[int, str]] = {}

    def sign(self, *, project_id: int, display_id: int, locale: str) -> str:
        now = int(time.time())
        key = (project_id, display_id, locale)
        issued = self._issued.get(key)
        if issued is not None and 0 <= now - issued[0] < REUSE_SECONDS:
            return issued[1]
        token = self._sign(project_id, display_id, locale, now)
        if len(self._issued) >= REUSE_LIMIT:
            self._issued = {}
        self._issued[key] = (now, token)
        return token

    def _sign(self, project_id: int, display_id: int, locale: str, now: int) -> str:
        # payload.timestamp.signature, each base64url, as the serializer's dumps() makes them;
        # uncompressed, which loads() takes as well: zlib cannot shrink a payload this small.
        payload = self._json({"d": display_id, "p": project_id, "l": locale})
        value = base64_encode(payload) + b"." + base64_encode(int_to_bytes(now))
        return (value + b"." + base64_encode(hmac.digest(self._key, value, "sha1"))).decode()

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
