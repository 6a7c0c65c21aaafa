"""The surveys pages: the list with each survey's invitation counts, and the form that creates
or edits a survey through the same schema and domain functions as `/api/v1/surveys`."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from service.app.access import requires
from service.app.mailer import public_link
from service.app.shell import bp, team
from service.app.survey_forms import (
    CHANNEL_LABELS,
    SurveyForm,
    form_data,
    survey_data,
)
from service.db import db
from surveys import catalog
from surveys.accounts.roles import Role
from surveys.email import delivery
from surveys.errors import Invalid
from surveys.models import Survey

PAGE_SIZE = 100
# The publishable key is stored hashed, so the page can only show where it goes.
KEY_PLACEHOLDER = "YOUR_PUBLISHABLE_KEY"


def _can_edit() -> bool:
    role = team().role
    return role is not None and role.at_least(Role.EDITOR)


@bp.get("/surveys")
def surveys():  # noqa: ANN201
    project_id = team().project.id
    after = request.args.get("after", type=int)
    page = catalog.list_surveys(db(), project_id, limit=PAGE_SIZE, after=after, active=None)
    stats = delivery.counts_of(db(), page.items)
    return render_template(
        "app/surveys.html",
        surveys=page.items,
        stats=stats,
        next_after=page.next_after,
        channel_labels=CHANNEL_LABELS,
        can_edit=_can_edit(),
    )


def _key_rotation_url() -> str | None:
    """Where an owner makes new keys, when this app has that page."""
    try:
        return url_for("app.settings")
    except BuildError:
        return None


def _survey_page(form: SurveyForm, survey: Survey | None, status: int = 200):  # noqa: ANN202
    form.set_locale_choices()
    project_id = team().project.id
    return render_template(
        "app/survey_form.html",
        form=form,
        survey=survey,
        stats=delivery.counts(db(), project_id, survey.id) if survey else None,
        can_edit=_can_edit(),
        snippet=_snippet(),
        key_placeholder=KEY_PLACEHOLDER,
        key_rotation_url=_key_rotation_url(),
    ), status


def _snippet() -> str:
    script = public_link("widget_script.widget_js")
    return f'<script src="{script}" data-key="{KEY_PLACEHOLDER}" async></script>'


def _adding_a_locale(form: SurveyForm, survey: Survey | None):  # noqa: ANN202
    """The "Add a locale" button: the form comes back with one more row and nothing is saved
    (so it works without JavaScript)."""
    form.validate()  # parses the fields; the messages are not shown for this round
    for field in form:
        field.errors = []
    form.form_errors.clear()
    entry = form.texts.append_entry()
    entry.locale.data = ""
    return _survey_page(form, survey)


@bp.get("/surveys/new")
@requires(Role.EDITOR)
def new_survey():  # noqa: ANN201
    return _survey_page(SurveyForm(formdata=None, data=form_data(None)), None)


@bp.post("/surveys/new")
def create_survey():  # noqa: ANN201
    form = SurveyForm()
    if "add_locale" in request.form:
        return _adding_a_locale(form, None)
    data = survey_data(form)
    if data is None:
        return _survey_page(form, None, 422)
    try:
        survey = catalog.create_survey(db(), team().project.id, data)
    except Invalid as exc:
        form.show_problems(exc)
        return _survey_page(form, None, 422)
    db().commit()
    flash(f"Survey “{survey.name}” created.", "success")
    return redirect(url_for("app.edit_survey", survey_id=survey.id))


@bp.get("/surveys/<int:survey_id>")
def edit_survey(survey_id: int):  # noqa: ANN201
    survey = catalog.get_survey(db(), team().project.id, survey_id)
    return _survey_page(SurveyForm(formdata=None, data=form_data(survey)), survey)


@bp.post("/surveys/<int:survey_id>")
def update_survey(survey_id: int):  # noqa: ANN201
    project_id = team().project.id
    survey = catalog.get_survey(db(), project_id, survey_id)
    form = SurveyForm()
    if "add_locale" in request.form:
        return _adding_a_locale(form, survey)
    data = survey_data(form)
    if data is None:
        return _survey_page(form, survey, 422)
    try:
        catalog.update_survey(db(), project_id, survey_id, data)
    except Invalid as exc:
        db().rollback()
        form.show_problems(exc)
        return _survey_page(form, catalog.get_survey(db(), project_id, survey_id), 422)
    db().commit()
    flash("Survey saved.", "success")
    return redirect(url_for("app.edit_survey", survey_id=survey_id))
