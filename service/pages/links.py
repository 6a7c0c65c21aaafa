"""Server-rendered pages behind the email links: score, follow-up question, unsubscribe.

A GET never records anything (mail scanners follow links): the score page shows the scale
with the clicked number selected, and a few lines of script POST it at once; browsers
without script show the same form with a visible button. Every page is localized by the
person's locale and escapes everything (Jinja autoescape).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from service import tokens
from service.db import db
from service.pages.texts import PAGE_TEXTS
from service.strict_input import field_problems
from surveys.clock import utcnow
from surveys.email import link_answers
from surveys.errors import DomainError, Invalid, NotFound, SurveyClosed
from surveys.segments import is_valid_score, segment_of
from surveys.texts import LOCALES, base_locale, followup_text, question_text

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)
SCORES = list(range(11))


class PageProblem(Exception):
    """An answer page instead of the scale: (status, text key) in the visitor's language."""

    def __init__(self, status: int, key: str, lang: str | None = None) -> None:
        super().__init__(key)
        self.status, self.key, self.lang = status, key, lang


def _visitor_lang() -> str:
    return request.accept_languages.best_match(LOCALES) or "en"


def _message(status: int, key: str, lang: str | None = None):
    lang = lang or _visitor_lang()
    texts = PAGE_TEXTS[lang]
    page = render_template(
        "pages/message.html",
        lang=lang,
        t=texts,
        title=texts[f"{key}_title"],
        text=texts[f"{key}_text"],
    )
    return page, status


def _invitation_id(token: str, purpose: str, max_age_seconds: int) -> int:
    try:
        payload = tokens.load(purpose, token, max_age_seconds)
    except tokens.TokenExpired as exc:
        raise PageProblem(410, "expired") from exc
    except tokens.TokenInvalid as exc:
        raise PageProblem(400, "invalid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise PageProblem(400, "invalid")
    return payload["i"]


def _score_context(token: str) -> link_answers.LinkContext:
    max_age = current_app.config["FLYWHEEL"].link_max_age_days * 24 * 3600
    ctx = link_answers.link_context(db(), _invitation_id(token, tokens.SCORE_PURPOSE, max_age))
    if not ctx.survey.active:
        raise PageProblem(409, "closed", base_locale(ctx.person.locale))
    return ctx


def _parse_score(raw: str | None) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    score = int(raw)
    return score if is_valid_score(score) else None


def _score_page(token: str, ctx, selected: int | None, *, autosubmit: bool, error: str = ""):
    lang = base_locale(ctx.person.locale)
    return render_template(
        "pages/score.html",
        lang=lang,
        t=PAGE_TEXTS[lang],
        token=token,
        question=question_text(ctx.survey.question, ctx.survey.product_name, ctx.person.locale),
        scores=SCORES,
        selected=selected,
        autosubmit=autosubmit,
        error=error,
    )


@bp.get("/r/<token>")
def score(token: str):
    """The scale with the clicked score selected; script records it, GET itself never does."""
    ctx = _score_context(token)
    clicked = _parse_score(request.args.get("score"))
    recorded = ctx.response.score if ctx.response is not None else None
    selected = clicked if clicked is not None else recorded
    return _score_page(token, ctx, selected, autosubmit=clicked is not None and clicked != recorded)


@bp.post("/r/<token>")
def record(token: str):
    """Record the score (first form) or the comment (follow-up form), then redirect."""
    ctx = _score_context(token)
    lang = base_locale(ctx.person.locale)
    if field_problems(request.form):
        raise Invalid("the form holds text that cannot be stored")
    if request.form.get("step") == "comment":
        comment = (request.form.get("comment") or "").strip()
        if comment:
            link_answers.answer_by_link(
                db(), ctx.invitation.id, score=None, comment=comment, now=utcnow()
            )
            db().commit()
        return redirect(url_for(".thanks", token=token), 303)
    chosen = _parse_score(request.form.get("score"))
    if chosen is None:
        page = _score_page(
            token, ctx, None, autosubmit=False, error=PAGE_TEXTS[lang]["choose_score"]
        )
        return page, 422
    link_answers.answer_by_link(db(), ctx.invitation.id, score=chosen, comment=None, now=utcnow())
    db().commit()
    return redirect(url_for(".more", token=token), 303)


@bp.get("/r/<token>/more")
def more(token: str):
    """The follow-up question for the chosen score's segment."""
    ctx = _score_context(token)
    if ctx.response is None or ctx.response.score is None:
        return redirect(url_for(".score", token=token), 303)
    lang = base_locale(ctx.person.locale)
    texts = PAGE_TEXTS[lang]
    segment = segment_of(ctx.response.score)
    return render_template(
        "pages/more.html",
        lang=lang,
        t=texts,
        token=token,
        thanks_score=texts["thanks_score"].replace("{score}", str(ctx.response.score)),
        followup=followup_text(
            ctx.survey.followup, ctx.survey.product_name, str(segment), ctx.person.locale
        ),
        comment=ctx.response.comment or "",
    )


@bp.get("/r/<token>/thanks")
def thanks(token: str):
    ctx = _score_context(token)
    lang = base_locale(ctx.person.locale)
    comment = ctx.response.comment if ctx.response is not None else None
    return render_template(
        "pages/thanks.html", lang=lang, t=PAGE_TEXTS[lang], token=token, comment=comment
    )


def _unsubscribe_context(token: str) -> link_answers.LinkContext:
    invitation_id = _invitation_id(
        token, tokens.UNSUBSCRIBE_PURPOSE, tokens.UNSUBSCRIBE_MAX_AGE_SECONDS
    )
    return link_answers.link_context(db(), invitation_id)


def _unsubscribe_page(template: str, ctx: link_answers.LinkContext, token: str):
    lang = base_locale(ctx.person.locale)
    texts = PAGE_TEXTS[lang]
    return render_template(
        template,
        lang=lang,
        t=texts,
        token=token,
        project=ctx.project.name,
    )


@bp.get("/u/<token>")
def unsubscribe_confirm(token: str):
    """Ask first: a scanner following the link must not unsubscribe anyone."""
    return _unsubscribe_page("pages/unsubscribe.html", _unsubscribe_context(token), token)


@bp.post("/u/<token>")
def unsubscribe(token: str):
    """The confirm button, and the RFC 8058 one-click POST from mail clients."""
    ctx = _unsubscribe_context(token)
    link_answers.unsubscribe_by_link(db(), ctx.invitation.id, utcnow())
    db().commit()
    return _unsubscribe_page("pages/unsubscribed.html", ctx, token)


@bp.after_request
def _private(response):
    # The token in the URL is a capability: keep it out of caches and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    # No other site may frame these pages and trick a click on a score or on "unsubscribe".
    directives = [
        directive.strip()
        for directive in response.headers.get("Content-Security-Policy", "").split(";")
        if directive.strip() and directive.split()[0].lower() != "frame-ancestors"
    ]
    response.headers["Content-Security-Policy"] = "; ".join([*directives, "frame-ancestors 'none'"])
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.errorhandler(PageProblem)
def _problem(exc: PageProblem):
    return _message(exc.status, exc.key, exc.lang)


@bp.errorhandler(DomainError)
def _domain(exc: DomainError):
    db().rollback()
    if isinstance(exc, SurveyClosed):
        return _message(409, "closed")
    if isinstance(exc, NotFound):
        return _message(404, "gone")
    if isinstance(exc, Invalid):
        return _message(422, "error")
    return _message(409, "error")


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return _message(exc.code or 500, "error")


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("unhandled error on a link page")
    db().rollback()
    return _message(500, "error")
