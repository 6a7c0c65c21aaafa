"""The webhooks page, for owners: the project's endpoints with their last delivery, a form to
add or change one, delete and secret rotation behind a confirm step, and each endpoint's
delivery log with redelivery and a test event.

The page checks what it is sent with the API's own schemas and calls the same domain
functions as /api/v1/webhooks, so it accepts exactly what the API accepts. A signing secret is
shown in the one answer that made it (create or rotate), never again.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from service.app.access import requires
from service.app.shell import bp, team
from service.app.webhook_forms import EVENT_LABELS, WebhookForm
from service.db import db
from service.schemas.webhooks import WebhookCreateSchema
from surveys.accounts.roles import Role
from surveys.catalog import list_surveys
from surveys.clock import utcnow
from surveys.errors import Conflict, Invalid
from surveys.loop import webhooks
from surveys.models import Webhook

# Every field is on the form, so a change is checked as a whole endpoint, as on create.
WEBHOOK_SCHEMA = WebhookCreateSchema()
DELIVERIES_PER_PAGE = 50
MAX_SURVEYS_LISTED = 500


def _seal(plain: str) -> str:
    return webhooks.sealer_for(current_app.config["SECRET_KEY"]).seal(plain)


def _allow_private() -> bool:
    return current_app.config["FLYWHEEL"].webhook_allow_private


def _survey_names() -> dict[int, str]:
    page = list_surveys(db(), team().project.id, limit=MAX_SURVEYS_LISTED, after=None, active=None)
    return {survey.id: survey.name for survey in page.items}


def _gone(webhook: Webhook | None, names: dict[int, str]) -> int | None:
    """The id of the deleted survey the webhook's filter still names, if it does."""
    if webhook is None or webhook.survey_id is None or webhook.survey_id in names:
        return None
    return webhook.survey_id


def _form(webhook: Webhook | None = None, *, formdata: Any = None) -> WebhookForm:
    form = WebhookForm(formdata=formdata, obj=webhook if formdata is None else None)
    if formdata is None and webhook is not None:
        # The select's values are texts; "no filter" is the empty one.
        form.survey_id.data = "" if webhook.survey_id is None else str(webhook.survey_id)
        form.segment.data = webhook.segment or ""
    names = _survey_names()
    form.survey_id.choices = [("", "Any survey")] + [
        (str(survey_id), name) for survey_id, name in names.items()
    ]
    gone = _gone(webhook, names)
    if gone is not None:
        # Kept as a choice, so the rest of the webhook can be saved without widening the
        # filter behind the owner's back; choosing "Any survey" or another clears it.
        form.survey_id.choices.append((str(gone), _gone_label(gone)))
    return form


def _gone_label(survey_id: int) -> str:
    return f"Survey {survey_id} (deleted: matches nothing)"


def _warn_if_gone(webhook: Webhook) -> None:
    if _gone(webhook, _survey_names()) is not None:
        flash(
            f"This webhook's survey filter names survey {webhook.survey_id}, which was "
            "deleted, so it sends nothing. Choose another survey or “Any survey” to clear "
            "the filter, or save to keep it.",
            "error",
        )


def _page(form: WebhookForm, editing: Webhook | None = None, status: int = 200):  # noqa: ANN202
    project_id = team().project.id
    return render_template(
        "app/webhooks.html",
        hooks=webhooks.list_webhooks(db(), project_id),
        last=webhooks.last_deliveries(db(), project_id),
        surveys=_survey_names(),
        events=EVENT_LABELS,
        form=form,
        editing=editing,
    ), status


@bp.get("/webhooks")
@requires(Role.OWNER)
def webhooks_page():  # noqa: ANN201
    return _page(_form())


@bp.get("/webhooks/<int:webhook_id>/edit")
@requires(Role.OWNER)
def edit_webhook(webhook_id: int):  # noqa: ANN201
    webhook = webhooks.get_webhook(db(), team().project.id, webhook_id)
    _warn_if_gone(webhook)
    return _page(_form(webhook), webhook)


def _data(form: WebhookForm) -> dict[str, Any]:
    """The form as the API's JSON: empty choices and scores are null (no filter)."""
    return {
        "url": (form.url.data or "").strip(),
        "events": list(form.events.data or []),
        "description": (form.description.data or "").strip() or None,
        "active": bool(form.active.data),
        "survey_id": int(form.survey_id.data) if form.survey_id.data else None,
        "segment": form.segment.data or None,
        "score_min": form.score_min.data,
        "score_max": form.score_max.data,
    }


# The API's messages name fields; the page names what the form's labels say.
_WORDS = {"url": "the URL", "score_min": "the lowest score", "score_max": "the highest score"}


def _sentence(text: str) -> str:
    text = re.sub(r"\b(url|score_min|score_max)\b", lambda m: _WORDS[m.group(1)], text)
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _show(form: WebhookForm, messages: dict[str, Any]) -> None:
    for name, problems in messages.items():
        listed = problems if isinstance(problems, list) else [problems]
        sentences = [_sentence(str(p)) for p in listed if not isinstance(p, dict)]
        if name in form and name != "csrf_token":
            form[name].errors = [*form[name].errors, *sentences]
        else:
            form.form_errors.extend(sentences)


def _show_domain(form: WebhookForm, exc: Invalid | Conflict) -> None:
    """A domain refusal (the URL's address above all) under the field it names."""
    named = [name for name in exc.details if name in form and name != "csrf_token"]
    if not named and exc.message.startswith("url"):
        named = ["url"]  # "url's host does not resolve" names the host, not the field
    sentence = _sentence(exc.message)
    if named:
        form[named[0]].errors = [*form[named[0]].errors, sentence]
    else:
        form.form_errors.append(sentence)


def _checked(webhook: Webhook | None = None):  # noqa: ANN202
    """The posted form checked by the form, then by the API's schema: data, or a 422 page."""
    form = _form(webhook, formdata=request.form)
    if not form.validate():
        return form, None
    try:
        return form, WEBHOOK_SCHEMA.load(_data(form))
    except ValidationError as exc:
        _show(form, exc.normalized_messages())
        return form, None


@bp.post("/webhooks")
@requires(Role.OWNER)
def add_webhook():  # noqa: ANN201
    form, data = _checked()
    if data is None:
        return _page(form, None, 422)
    try:
        made = webhooks.create_webhook(
            db(), team().project.id, data, seal=_seal, allow_private=_allow_private(), now=utcnow()
        )
    except (Invalid, Conflict) as exc:
        # A refused address under the URL; the most a project may have (409) on top.
        db().rollback()
        _show_domain(form, exc)
        return _page(form, None, 422 if isinstance(exc, Invalid) else 409)
    db().commit()
    # Shown in this answer only: not flashed, not stored, and the page is never cached.
    return render_template("app/webhook_secret.html", webhook=made.webhook, secret=made.secret)


@bp.post("/webhooks/<int:webhook_id>/edit")
@requires(Role.OWNER)
def save_webhook(webhook_id: int):  # noqa: ANN201
    project_id = team().project.id
    webhook = webhooks.get_webhook(db(), project_id, webhook_id)
    form, data = _checked(webhook)
    if data is None:
        return _page(form, webhook, 422)
    try:
        webhooks.update_webhook(
            db(), project_id, webhook_id, data, allow_private=_allow_private(), now=utcnow()
        )
    except Invalid as exc:
        db().rollback()
        _show_domain(form, exc)
        return _page(form, webhooks.get_webhook(db(), project_id, webhook_id), 422)
    db().commit()
    flash(f"Webhook to {data['url']} saved.", "success")
    _warn_if_gone(webhook)
    return redirect(url_for("app.webhooks_page"))


@bp.get("/webhooks/<int:webhook_id>/delete")
@requires(Role.OWNER)
def confirm_delete_webhook(webhook_id: int):  # noqa: ANN201
    webhook = webhooks.get_webhook(db(), team().project.id, webhook_id)
    return render_template("app/webhook_confirm.html", webhook=webhook, action="delete")


@bp.post("/webhooks/<int:webhook_id>/delete")
@requires(Role.OWNER)
def delete_webhook(webhook_id: int):  # noqa: ANN201
    project_id = team().project.id
    url = webhooks.get_webhook(db(), project_id, webhook_id).url
    webhooks.delete_webhook(db(), project_id, webhook_id)
    db().commit()
    flash(f"Webhook to {url} deleted, with its delivery log.", "success")
    return redirect(url_for("app.webhooks_page"))


@bp.get("/webhooks/<int:webhook_id>/rotate-secret")
@requires(Role.OWNER)
def confirm_rotate_webhook_secret(webhook_id: int):  # noqa: ANN201
    webhook = webhooks.get_webhook(db(), team().project.id, webhook_id)
    return render_template("app/webhook_confirm.html", webhook=webhook, action="rotate")


@bp.post("/webhooks/<int:webhook_id>/rotate-secret")
@requires(Role.OWNER)
def rotate_webhook_secret(webhook_id: int):  # noqa: ANN201
    made = webhooks.rotate_secret(db(), team().project.id, webhook_id, seal=_seal, now=utcnow())
    db().commit()
    return render_template(
        "app/webhook_secret.html", webhook=made.webhook, secret=made.secret, rotated=True
    )


def _older_than() -> int | None:
    value = request.args.get("before", "")
    return int(value) if value.isdigit() else None


@bp.get("/webhooks/<int:webhook_id>")
@requires(Role.OWNER)
def webhook_deliveries(webhook_id: int):  # noqa: ANN201
    project_id = team().project.id
    webhook = webhooks.get_webhook(db(), project_id, webhook_id)
    page = webhooks.list_deliveries(
        db(), project_id, webhook_id, limit=DELIVERIES_PER_PAGE, older_than=_older_than()
    )
    return render_template(
        "app/webhook_deliveries.html",
        webhook=webhook,
        page=page,
        surveys=_survey_names(),
        events=EVENT_LABELS,
    )


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@requires(Role.OWNER)
def redeliver_webhook(webhook_id: int, delivery_id: int):  # noqa: ANN201
    delivery = webhooks.redeliver(db(), team().project.id, webhook_id, delivery_id, now=utcnow())
    db().commit()
    flash(
        f"Delivery {delivery.id} ({delivery.event_type}) is queued again; "
        "it goes out within seconds.",
        "success",
    )
    return redirect(url_for("app.webhook_deliveries", webhook_id=webhook_id))


@bp.post("/webhooks/<int:webhook_id>/test")
@requires(Role.OWNER)
def test_webhook(webhook_id: int):  # noqa: ANN201
    webhooks.send_test(db(), team().project.id, webhook_id, now=utcnow())
    db().commit()
    flash("A test event (webhook.test) is queued; it goes out within seconds.", "success")
    return redirect(url_for("app.webhook_deliveries", webhook_id=webhook_id))
