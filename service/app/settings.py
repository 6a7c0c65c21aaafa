"""The project settings page, for owners: name, time zone, throttle, the widget's origins and
identity verification, who sees emails, and key rotation (new keys shown once).

Every change goes through the API's own schema (`ProjectSchema`) and domain function
(`update_project`), so the page accepts exactly what `PATCH /api/v1/project` accepts.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, flash, redirect, render_template, request, session, url_for
from marshmallow import ValidationError

from service.app.access import requires
from service.app.forms import Form
from service.app.settings_forms import KEY_CHOICES, GeneralForm, RotateForm, WidgetForm
from service.app.shell import bp, team
from service.caches import caches
from service.db import db
from service.schemas.project import ProjectSchema
from surveys.accounts.roles import Role
from surveys.errors import Invalid
from surveys.keys import identity_secret
from surveys.projects import KeyKind, rotate_key, update_project
from surveys.sealed import Sealer, SealError

SETTINGS_SCHEMA = ProjectSchema(partial=True)
# The session entry carrying freshly rotated keys, sealed, to the page that shows them once.
NEW_KEYS = "new_keys"
ORIGIN_HINT = "an origin is a scheme and a host, like https://app.example.com"


def _general_form() -> GeneralForm:
    project = team().project
    return GeneralForm(
        formdata=None,
        name=project.name,
        time_zone=project.time_zone,
        throttle_days=project.throttle_days,
        hide_emails_from_viewers=project.hide_emails_from_viewers,
    )


def _widget_form() -> WidgetForm:
    project = team().project
    return WidgetForm(
        formdata=None,
        allowed_origins="\n".join(project.allowed_origins or []),
        require_identity_verification=project.require_identity_verification,
    )


def _settings_page(status: int = 200, **forms: Form):  # noqa: ANN202
    project = team().project
    return render_template(
        "app/settings.html",
        general_form=forms.get("general_form") or _general_form(),
        widget_form=forms.get("widget_form") or _widget_form(),
        rotate_form=RotateForm(formdata=None),
        time_zones=sorted(available_timezones()),
        identity_secret=identity_secret(current_app.config["SECRET_KEY"], project.identity_salt),
    ), status


@bp.get("/settings")
@requires(Role.OWNER)
def settings():  # noqa: ANN201
    return _settings_page()


def _sentences(messages: Any) -> list[str]:
    """marshmallow's messages (a list, or per list index for origins) as sentences."""
    if isinstance(messages, dict):
        return [
            f"Line {index + 1}: {ORIGIN_HINT}."
            if "pattern" in " ".join(map(str, problems))
            else f"Line {index + 1}: {' '.join(map(str, problems))}"
            for index, problems in sorted(messages.items())
        ]
    return [_sentence(str(m)) for m in messages]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _save(form: Form, changes: dict[str, Any], section: str):  # noqa: ANN202
    """Check the changes as the API does, apply them, or show what is wrong under the field."""
    try:
        loaded = SETTINGS_SCHEMA.load(changes)
        update_project(db(), team().project, loaded)
    except ValidationError as exc:
        for name, messages in exc.normalized_messages().items():
            sentences = _sentences(messages)
            if name in form:
                form[name].errors = [*form[name].errors, *sentences]
            else:
                form.form_errors.extend(sentences)
        return _settings_page(422, **{section: form})
    except Invalid as exc:
        form.show_problems(exc)
        return _settings_page(422, **{section: form})
    db().commit()
    flash("Settings saved.", "success")
    return redirect(url_for("app.settings"))


@bp.post("/settings/general")
@requires(Role.OWNER)
def save_general():  # noqa: ANN201
    form = GeneralForm()
    if not form.validate():
        return _settings_page(422, general_form=form)
    changes = {
        "name": form.name.data.strip(),
        "time_zone": form.time_zone.data.strip(),
        "throttle_days": form.throttle_days.data,
        "hide_emails_from_viewers": form.hide_emails_from_viewers.data,
    }
    return _save(form, changes, "general_form")


@bp.post("/settings/widget")
@requires(Role.OWNER)
def save_widget():  # noqa: ANN201
    form = WidgetForm()
    if not form.validate():
        return _settings_page(422, widget_form=form)
    origins = [line.strip() for line in (form.allowed_origins.data or "").splitlines()]
    changes = {
        "allowed_origins": [o for o in origins if o],
        "require_identity_verification": form.require_identity_verification.data,
    }
    return _save(form, changes, "widget_form")


def _kind() -> KeyKind:
    form = RotateForm(request.values)
    if not form.validate():
        raise Invalid("choose which key to replace", {"kind": ["choose which key to replace"]})
    return KeyKind(form.kind.data)


@bp.get("/settings/keys/rotate")
@requires(Role.OWNER)
def confirm_rotation():  # noqa: ANN201
    """The confirm step: what stops working, and one button that does it."""
    kind = _kind()
    return render_template("app/rotate_keys.html", kind=kind, label=dict(KEY_CHOICES)[kind.value])


@bp.post("/settings/keys/rotate")
@requires(Role.OWNER)
def rotate():  # noqa: ANN201
    kind = _kind()
    rotated = rotate_key(db(), team().project, kind)
    db().commit()
    # This node forgets the old publishable key now; others within the cache's few seconds.
    caches()["widget_keys"].clear()
    project = team().project
    shown = {
        "secret_key": rotated.secret_key,
        "publishable_key": rotated.publishable_key,
        "identity_secret": identity_secret(current_app.config["SECRET_KEY"], project.identity_salt)
        if rotated.identity_salt
        else None,
    }
    # Post/redirect/get, so that reloading the page never rotates again. The keys cross the
    # redirect in the session cookie sealed (the cookie is signed, not encrypted), and the
    # page that shows them takes them out: they are shown once.
    session[NEW_KEYS] = _sealer().seal(json.dumps(shown))
    return redirect(url_for("app.new_keys"), 303)


@bp.get("/settings/keys/new")
@requires(Role.OWNER)
def new_keys():  # noqa: ANN201
    sealed = session.pop(NEW_KEYS, None)
    shown: dict[str, str | None] | None = None
    if sealed is not None:
        try:
            shown = json.loads(_sealer().open(sealed))
        except SealError:
            shown = None  # sealed under another SECRET_KEY: nothing to show
    # Never cached (no-store, as every page of the app).
    return render_template("app/new_keys.html", shown=shown)


def _sealer() -> Sealer:
    return Sealer(current_app.config["SECRET_KEY"], "new keys")
