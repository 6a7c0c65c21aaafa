"""Previews of a survey as people see it, and "send a test to me".

A preview is a document of its own at its own address, shown in a sandboxed frame of the survey
page: the email exactly as `surveys/email/render.py` writes it, and a server-rendered look-alike
of the widget's card. It is either the stored survey (GET) or the form's unsaved values (POST,
what the page's script and its Preview buttons send). Its policy allows its own styles and
nothing else: no script, no request, no form, no embedding but by this app's pages.

The test email goes to the signed-in user through the survey mail transport. Its score links
lead to a team-app page that records nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from email.utils import make_msgid

from flask import current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from service.app import throttle
from service.app.mailer import MailNotSent, public_link, send_built_message
from service.app.shell import bp, team
from service.app.survey_forms import SurveyForm, locale_texts
from service.config import Settings
from service.db import db
from surveys import catalog
from surveys.email.render import (
    SCORES,
    EmailInput,
    UnsendableAddress,
    build_message,
    render_email,
    sender_domain,
)
from surveys.models import Survey
from surveys.segments import SEGMENTS
from surveys.texts import DEFAULT_LOCALE, base_locale, followup_text, question_text

EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)
WIDGET_CSP = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)
# The widget's own words around the survey's texts (service/static/widget.js has the same).
WIDGET_WORDS = {
    "en": ("Not likely", "Very likely", "Send", "Close"),
    "ru": ("Маловероятно", "Очень вероятно", "Отправить", "Закрыть"),
    "zh": ("不太可能", "非常可能", "发送", "关闭"),
}
SEGMENT_SCORES = {"promoter": "9–10", "passive": "7–8", "detractor": "0–6"}
TEST_PREFIX = "[Test] "
_BODY = re.compile(r"<body[^>]*>")
SUBJECT_LABEL = "Subject:"
SUBJECT_LINE = (
    '<p style="margin:0;padding:10px 16px;background:#fff;border-bottom:1px solid #e4e7eb;'
    'font:14px/1.4 -apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2933;">'
    "<strong>{label}</strong> {subject}</p>"
)
TEXT_NAMES = ("question", "email_subject", "email_intro", "followup")


def _texts_of(survey: Survey) -> dict[str, object]:
    return {
        "product_name": survey.product_name,
        "question": survey.question or {},
        "email_subject": survey.email_subject or {},
        "email_intro": survey.email_intro or {},
        "followup": survey.followup or {},
    }


def _texts_of_form() -> tuple[dict[str, object], str]:
    form = SurveyForm()
    texts = locale_texts(form)
    texts["product_name"] = (form.product_name.data or "").strip() or None
    return texts, (form.preview_locale.data or DEFAULT_LOCALE).strip() or DEFAULT_LOCALE


def _email(texts: dict, locale: str, links: list[str], unsubscribe: str) -> EmailInput:
    return EmailInput(
        locale=locale,
        person_name=None,
        product_name=texts["product_name"],
        question=texts["question"],
        subject=texts["email_subject"],
        intro=texts["email_intro"],
        score_urls=links,
        unsubscribe_url=unsubscribe,
    )


def _framed(body: str, policy: str) -> Response:
    """A preview document: framed by this app's pages only, under its own policy (the shell
    keeps a policy a view set)."""
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _email_preview(texts: dict, locale: str) -> Response:
    # Links that go nowhere: a preview is looked at, not answered.
    parts = render_email(_email(texts, locale, ["#"] * len(SCORES), "#"))
    # The subject is in the message's header, not its HTML: shown above the body, as a mail
    # client would.
    subject = Markup(SUBJECT_LINE).format(label=SUBJECT_LABEL, subject=parts.subject)
    html = _BODY.sub(lambda m: m.group(0) + str(subject), parts.html, count=1)
    return _framed(html, EMAIL_CSP)


def _widget_preview(texts: dict, locale: str) -> Response:
    product = texts["product_name"]
    followups = [
        (SEGMENT_SCORES[s.value], followup_text(texts["followup"], product, s.value, locale))
        for s in SEGMENTS
    ]
    page = render_template(
        "app/survey_widget_preview.html",
        lang=base_locale(locale),
        question=question_text(texts["question"], product, locale),
        words=WIDGET_WORDS[base_locale(locale)],
        followups=followups,
        scores=SCORES,
    )
    return _framed(page, WIDGET_CSP)


PREVIEWS = {"email": _email_preview, "widget": _widget_preview}


@bp.get("/surveys/<int:survey_id>/preview/<any(email, widget):kind>")
def stored_survey_preview(survey_id: int, kind: str) -> Response:
    survey = catalog.get_survey(db(), team().project.id, survey_id)
    locale = request.args.get("locale", DEFAULT_LOCALE)[:35] or DEFAULT_LOCALE
    return PREVIEWS[kind](_texts_of(survey), locale)


@bp.get("/surveys/preview/<any(email, widget):kind>")
def builtin_preview(kind: str) -> Response:
    """What a new survey shows before any text is set: the built-in texts."""
    texts = {"product_name": None, **{n: {} for n in TEXT_NAMES}}
    return PREVIEWS[kind](texts, request.args.get("locale", DEFAULT_LOCALE)[:35] or DEFAULT_LOCALE)


@bp.post("/surveys/preview/<any(email, widget):kind>")
def form_preview(kind: str) -> Response:
    texts, locale = _texts_of_form()
    return PREVIEWS[kind](texts, locale)


@bp.post("/surveys/<int:survey_id>/test")
def send_test(survey_id: int):  # noqa: ANN201
    survey = catalog.get_survey(db(), team().project.id, survey_id)
    # Each test is a real email to the member: a budget per member keeps the button from
    # becoming a way to flood a mailbox or the mail server.
    throttle.count_test_email(team().user.id)
    settings: Settings = current_app.config["FLYWHEEL"]
    me = team().user.email
    locale = request.form.get("preview_locale", DEFAULT_LOCALE)[:35] or DEFAULT_LOCALE
    links = [public_link("app.test_answer", survey_id=survey.id, score=n) for n in SCORES]
    nothing = public_link("app.test_answer", survey_id=survey.id)
    parts = render_email(_email(_texts_of(survey), locale, links, nothing))
    parts = replace(parts, subject=TEST_PREFIX + parts.subject)
    try:
        message = build_message(
            parts,
            sender=settings.mail_from,
            recipient=me,
            recipient_name=None,
            message_id=make_msgid("survey-test", domain=sender_domain(settings.mail_from)),
            unsubscribe_url=nothing,
        )
        send_built_message(message, me, "survey test email")
    except (MailNotSent, UnsendableAddress):
        flash(f"The test email to {me} could not be sent. Check the mail settings.", "error")
    else:
        flash(
            f"A test of the saved survey was sent to {me}. Its answers are not recorded.",
            "success",
        )
    return redirect(url_for("app.edit_survey", survey_id=survey.id))


@bp.get("/surveys/<int:survey_id>/test-answer")
def test_answer(survey_id: int) -> str:
    survey = catalog.get_survey(db(), team().project.id, survey_id)
    score = request.args.get("score", type=int)
    return render_template(
        "app/survey_test_answer.html",
        survey=survey,
        score=score if score in SCORES else None,
    )
