"""A user's own account: password, two-factor sign-in, signing out elsewhere, and which
project the app shows."""

from __future__ import annotations

import io

import segno
from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import login_user

from service.app.access import personal
from service.app.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmPasswordForm,
    SwitchProjectForm,
)
from service.app.sessions import SignedIn, totp_sealer
from service.app.shell import bp, choose_project, team
from service.db import db
from surveys.accounts import totp
from surveys.accounts.passwords import verify_password
from surveys.accounts.users import (
    change_password,
    disable_second_factor,
    enable_second_factor,
    sign_out_everywhere,
)
from surveys.clock import utcnow
from surveys.errors import Invalid
from surveys.sealed import SealError

SECRET_KEY = "pending_totp_secret"


def _stay_signed_in() -> None:
    """The user's session version moved on (which signs out every other browser): this one
    gets a cookie with the new version."""
    login_user(SignedIn(team().user))
    session.permanent = True


def _account_page(status: int = 200, **forms: object):  # noqa: ANN202
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    return render_template("app/account.html", **forms), status


@bp.get("/account")
@personal
def account():  # noqa: ANN201
    return _account_page()


@bp.post("/account/password")
@personal
def account_password():  # noqa: ANN201
    form = ChangePasswordForm()
    if not form.validate():
        return _account_page(422, password_form=form)
    try:
        change_password(db(), team().user, form.current_password.data, form.password.data)
    except Invalid as exc:
        form.show_problems(exc)
        return _account_page(422, password_form=form)
    db().commit()
    _stay_signed_in()
    flash("Your password is changed; other browsers are signed out.", "success")
    return redirect(url_for("app.account"))


@bp.post("/account/sign-out-elsewhere")
@personal
def sign_out_elsewhere():  # noqa: ANN201
    sign_out_everywhere(db(), team().user)
    db().commit()
    _stay_signed_in()
    flash("Every other browser is signed out.", "success")
    return redirect(url_for("app.account"))


def _stored_pending_secret() -> str | None:
    """The seed being set up, kept sealed in the session cookie: Flask signs that cookie but
    does not encrypt it, and the seed must not be readable from a copy of it."""
    stored = session.get(SECRET_KEY)
    if not isinstance(stored, str):
        return None
    try:
        return totp_sealer().open(stored)
    except SealError:
        return None


def _pending_secret() -> str:
    secret = _stored_pending_secret()
    if secret is None:
        secret = totp.new_secret()
        session[SECRET_KEY] = totp_sealer().seal(secret)
    return secret


def _two_factor_page(status: int = 200, **forms: object):  # noqa: ANN202
    user = team().user
    if user.totp_secret is None:
        forms.setdefault("code_form", CodeForm(formdata=None))
        secret = _pending_secret()
        forms["secret_groups"] = [secret[i : i + 4] for i in range(0, len(secret), 4)]
    else:
        forms.setdefault("off_form", ConfirmPasswordForm(formdata=None))
    return render_template("app/two_factor.html", **forms), status


@bp.get("/account/two-factor")
@personal
def two_factor():  # noqa: ANN201
    return _two_factor_page()


@bp.get("/account/two-factor/qr.svg")
@personal
def two_factor_qr():  # noqa: ANN201
    """The pending secret as a QR code for an authenticator app (an image: no inline markup)."""
    secret = _stored_pending_secret()
    if secret is None or team().user.totp_secret is not None:
        abort(404)
    out = io.BytesIO()
    segno.make(totp.provisioning_uri(secret, team().user.email), error="m").save(
        out, kind="svg", scale=5, border=2, xmldecl=False
    )
    return out.getvalue(), 200, {"Content-Type": "image/svg+xml"}


@bp.post("/account/two-factor")
@personal
def two_factor_on():  # noqa: ANN201
    form = CodeForm()
    secret = _stored_pending_secret()
    if secret is None:
        return redirect(url_for("app.two_factor"))
    if not form.validate():
        return _two_factor_page(422, code_form=form)
    try:
        enable_second_factor(db(), team().user, secret, form.code.data, utcnow(), totp_sealer())
    except Invalid as exc:
        form.show_problems(exc)
        return _two_factor_page(422, code_form=form)
    db().commit()
    session.pop(SECRET_KEY, None)
    flash("Two-factor sign-in is on: from now on you enter a code after your password.", "success")
    return redirect(url_for("app.account"))


@bp.post("/account/two-factor/off")
@personal
def two_factor_off():  # noqa: ANN201
    form = ConfirmPasswordForm()
    user = team().user
    if form.validate() and not verify_password(user.password_hash, form.current_password.data):
        form.current_password.errors = ["That is not your current password."]
    if form.errors:
        return _two_factor_page(422, off_form=form)
    disable_second_factor(db(), user)
    db().commit()
    flash("Two-factor sign-in is off.", "success")
    return redirect(url_for("app.account"))


@bp.post("/switch-project")
@personal
def switch_project():  # noqa: ANN201
    form = SwitchProjectForm()
    form.project.choices = [(p.project.id, p.project.name) for p in team().projects]
    if not form.validate() or not choose_project(form.project.data):
        abort(404)
    flash(f"Now showing {dict(form.project.choices)[form.project.data]}.", "success")
    return redirect(url_for("app.overview"))
