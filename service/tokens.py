"""Signed, expiring tokens for links and widget displays (itsdangerous), one salt per purpose.

The purposes live here, once: the worker signs email links with them and the link pages
check them, so neither door imports the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# One salt per purpose: a token signed for one is refused by every other.
SCORE_PURPOSE = "email-score"
UNSUBSCRIBE_PURPOSE = "unsubscribe"
DISPLAY_PURPOSE = "display"
DIGEST_UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
# An unsubscribe link keeps working for a long time: an old email must still stop the next.
UNSUBSCRIBE_MAX_AGE_SECONDS = 400 * 24 * 3600


class TokenInvalid(Exception):
    """Forged, altered or for another purpose."""


class TokenExpired(TokenInvalid):
    """Genuine but older than its max age."""


def serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    """The serializer for one purpose, for a caller that keeps it (and has no app context)."""
    return URLSafeTimedSerializer(secret_key, salt=f"flywheel.{purpose}")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return serializer(current_app.config["SECRET_KEY"], purpose)


def sign(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def signer(purpose: str) -> Callable[[Any], str]:
    """`sign` for one purpose, set up once: the dispatcher signs two tokens per message."""
    return _serializer(purpose).dumps


def load(purpose: str, token: str, max_age_seconds: int) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except BadSignature as exc:
        raise TokenInvalid(str(exc)) from exc


def score_token(invitation_id: int) -> str:
    return sign(SCORE_PURPOSE, {"i": invitation_id})


def unsubscribe_token(invitation_id: int) -> str:
    return sign(UNSUBSCRIBE_PURPOSE, {"i": invitation_id})


def digest_unsubscribe_token(subscription_id: int) -> str:
    return sign(DIGEST_UNSUBSCRIBE_PURPOSE, {"d": subscription_id})
