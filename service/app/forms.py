"""The team app's forms (WTForms through Flask-WTF): fields, labels and input checks. The form
token is checked once for every post, by the blueprint, so the forms do not check it again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from surveys.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from surveys.accounts.roles import ROLES


class Form(FlaskForm):
    class Meta:
        csrf = False


def _email(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        validators=[InputRequired(), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a good one.",
    )


def _repeat(label: str = "Repeat the new password") -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in reversed(ROLES)]


class SignInForm(Form):
    email = _email()
    password = PasswordField(
        "Password",
        validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(Form):
    code = StringField(
        "Code from your authenticator app",
        validators=[InputRequired(), Length(max=16)],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "spellcheck": "false",
        },
        description="Six digits; a new one every 30 seconds.",
    )


class ForgotForm(Form):
    email = _email()


class SetPasswordForm(Form):
    password = _new_password("New password")
    confirm = _repeat()


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password("New password")
    confirm = _repeat()


class ConfirmPasswordForm(Form):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class InviteForm(Form):
    email = EmailField(
        "Email",
        validators=[InputRequired(), Length(max=320)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")


class RoleForm(Form):
    role = SelectField("Role", choices=ROLE_CHOICES)


class SwitchProjectForm(Form):
    project = SelectField("Project", coerce=int, choices=[])
