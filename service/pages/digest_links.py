"""The digest's one-click unsubscribe: `/d/<token>` asks, its POST (the button, or a mail
client's RFC 8058 one-click request) turns the subscription off."""

from __future__ import annotations

from flask import render_template

from service import tokens
from service.db import db
from service.pages.links import PageProblem, bp
from surveys.loop.digest_subscriptions import unsubscribe


def _subscription_id(token: str) -> int:
    try:
        payload = tokens.load(
            tokens.DIGEST_UNSUBSCRIBE_PURPOSE, token, tokens.UNSUBSCRIBE_MAX_AGE_SECONDS
        )
    except tokens.TokenExpired as exc:
        raise PageProblem(410, "expired", "en") from exc
    except tokens.TokenInvalid as exc:
        raise PageProblem(400, "invalid", "en") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("d"), int):
        raise PageProblem(400, "invalid", "en")
    return payload["d"]


@bp.get("/d/<token>")
def digest_unsubscribe_confirm(token: str):  # noqa: ANN201
    """Ask first: a scanner following the link must not unsubscribe anyone."""
    _subscription_id(token)
    return render_template("pages/digest_unsubscribe.html", lang="en", token=token)


@bp.post("/d/<token>")
def digest_unsubscribe(token: str):  # noqa: ANN201
    unsubscribe(db(), _subscription_id(token))
    db().commit()
    return render_template("pages/digest_unsubscribed.html", lang="en")
