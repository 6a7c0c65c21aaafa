"""Signing in and out: email and password, the two-factor step, forgotten passwords, and the
one-time links that set a password (invite, reset, first sign-in)."""

from __future__ import annotations

import contextlib
import time
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from service.app import throttle
from service.app.access import personal, public
from service.app.forms import CodeForm, ForgotForm, SetPasswordForm, SignInForm
from service.app.mailer import MailNotSent, public_link, send_account_mail
from service.app.sessions import PREFIX, SignedIn, totp_sealer
from service.app.shell import bp
from service.db import db
from surveys.accounts import links
from surveys.accounts.links import LinkUnusable, Purpose
from surveys.accounts.users import (
    authenticate,
    check_second_factor,
    find_user,
    load_user,
    record_sign_in,
    set_password_by_link,
)
from surveys.clock import utcnow
from surveys.errors import Invalid
from surveys.models import User

PENDING_KEY = "pending_second_factor"
# Between a right password and its code: long enough to open the app, short enough to not
# leave a half-signed-in browser around.
PENDING_SECONDS = 300


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a page of the team app, never another site."""
    if value:
        parts = urlsplit(value)
        inside = parts.path == PREFIX or parts.path.startswith(PREFIX + "/")
        if not parts.scheme and not parts.netloc and inside and "\\" not in value:
            return value
    return url_for("app.overview")


def _complete_sign_in(user: User, next_url: str | None, notice: str | None = None) -> Response:
    throttle.record_success(user.email)
    record_sign_in(db(), user, utcnow())
    db().commit()
    # A fresh cookie for the signed-in browser: nothing from before signing in carries over.
    session.clear()
    login_user(SignedIn(user))
    session.permanent = True
    if notice:
        flash(notice, "success")
    return redirect(safe_next(next_url))


def _second_factor_or_sign_in(
    user: User, next_url: str | None, notice: str | None = None
) -> Response:
    if user.totp_secret is None:
        return _complete_sign_in(user, next_url, notice)
    session.clear()
    session[PENDING_KEY] = {
        "user": user.id,
        "version": user.session_version,
        "at": int(time.time()),
        "next": next_url,
    }
    return redirect(url_for("app.sign_in_code"))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():  # noqa: ANN201
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(next_url))
    form = SignInForm()
    if request.method == "POST":
        throttle.count_attempt()
        if form.validate():
            throttle.check_account(form.email.data)
            user = authenticate(db(), form.email.data, form.password.data)
            db().commit()  # a hash upgraded on the way
            if user is not None:
                return _second_factor_or_sign_in(user, next_url)
            throttle.record_failure(form.email.data)
            form.form_errors.append("That email and password do not match an account.")
        return render_template("app/sign_in.html", form=form), 422
    return render_template("app/sign_in.html", form=form)


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return load_user(db(), pending["user"], pending["version"])


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def sign_in_code():  # noqa: ANN201
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Please sign in again: the code step timed out.", "info")
        return redirect(url_for("app.sign_in"))
    form = CodeForm()
    if request.method == "POST":
        throttle.count_attempt()
        throttle.check_account(user.email)
        if form.validate():
            if check_second_factor(db(), user, form.code.data, utcnow(), totp_sealer()):
                return _complete_sign_in(user, session[PENDING_KEY].get("next"))
            throttle.record_failure(user.email)
            form.code.errors = ["That code is not right. Wait for the next one and try again."]
        return render_template("app/sign_in_code.html", form=form), 422
    return render_template("app/sign_in_code.html", form=form)


@bp.post("/sign-out")
@personal
def sign_out():  # noqa: ANN201
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("app.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():  # noqa: ANN201
    form = ForgotForm()
    if request.method == "POST":
        throttle.count_attempt()
        if form.validate():
            email = form.email.data.strip().lower()
            throttle.count_reset_email(email)
            _send_reset(email)
            # The same answer whether or not the address has an account.
            return render_template("app/forgot_sent.html", email=email)
        return render_template("app/forgot_password.html", form=form), 422
    return render_template("app/forgot_password.html", form=form)


def _send_reset(email: str) -> None:
    user = find_user(db(), email)
    if user is None:
        return
    token = links.issue_link(db(), user, Purpose.RESET, utcnow())
    db().commit()
    # A failure is logged; telling the visitor would tell them the address has an account.
    with contextlib.suppress(MailNotSent):
        send_account_mail(
            user.email,
            "Reset your Flywheel password",
            "reset.txt",
            link=public_link("app.set_password", token=token),
            hours=int(links.LIFETIME[Purpose.RESET].total_seconds() // 3600),
        )


_LINK_PROBLEMS = {
    "unknown": (404, "This link is not known. Check that the whole link was copied."),
    "used": (410, "This link was used already: each link works once."),
    "expired": (410, "This link has expired."),
}


def _link_problem(exc: LinkUnusable) -> tuple[str, int]:
    status, text = _LINK_PROBLEMS[exc.reason]
    return render_template("app/link_unusable.html", text=text), status


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):  # noqa: ANN201
    """A GET only shows the form (mail scanners open links); the post uses the link up."""
    try:
        link = links.find_link(db(), token, utcnow())
    except LinkUnusable as exc:
        return _link_problem(exc)
    user = db().get(User, link.user_id)
    form = SetPasswordForm()
    context = {"form": form, "email": user.email, "purpose": link.purpose}
    if request.method == "POST":
        throttle.count_attempt()
        if form.validate():
            try:
                user = set_password_by_link(db(), token, form.password.data, utcnow())
            except LinkUnusable as exc:
                return _link_problem(exc)
            except Invalid as exc:
                form.show_problems(exc)
                return render_template("app/set_password.html", **context), 422
            db().commit()
            return _second_factor_or_sign_in(user, None, "Your password is set.")
        return render_template("app/set_password.html", **context), 422
    return render_template("app/set_password.html", **context)
