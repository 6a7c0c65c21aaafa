"""The team app's forms (WTForms through Flask-WTF): fields, labels and input checks. The form
token is checked once for every post, by the blueprint, so the forms do not check it again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from surveys.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from surveys.accounts.roles import ROLES
from surveys.errors import DomainError


class Form(FlaskForm):
    class Meta:
        csrf = False

    def show_problems(self, exc: DomainError) -> None:
        """A domain error's details under the fields they name, as sentences; the rest on top."""
        for name, problems in exc.details.items():
            sentences = [p[:1].upper() + p[1:].rstrip(".") + "." for p in problems]
            field = self._fields.get(name)
            if field is not None:
                field.errors = sentences
            else:
                self.form_errors.extend(sentences)
        if not exc.details:
            self.form_errors.append(exc.message[:1].upper() + exc.message[1:] + ".")


def _email(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        validators=[InputRequired(), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


def _new_password(label: str) -> PasswordField:
    # Its length and the rest are checked by the domain's password rules, in one place.
    return PasswordField(
        label,
        validators=[InputRequired()],
        render_kw={"autocomplete": "new-password"},
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a good one.",
    )


def _repeat(label: str = "Confirm the password") -> PasswordField:
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
            "class": "short",
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


ALERT_KIND_CHOICES = [
    ("detractor", "A detractor answers"),
    ("promoter_to_detractor", "A promoter drops to detractor"),
    ("theme_growth", "A friction point's share grows"),
]
ALERT_DESTINATION_CHOICES = [("slack", "Slack"), ("teams", "Microsoft Teams"), ("email", "Email")]


class AlertRuleForm(Form):
    # Lengths, the URL's address and the rule as a whole are checked by the domain, once.
    name = StringField("Name", validators=[InputRequired(), Length(max=200)])
    kind = SelectField("Alert when", choices=ALERT_KIND_CHOICES)
    destination = SelectField("Send to", choices=ALERT_DESTINATION_CHOICES)
    url = StringField(
        "Incoming-webhook URL",
        validators=[Optional(), Length(max=2000)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
        description="For Slack or Teams. Stored sealed and never shown again.",
    )
    emails = TextAreaField(
        "Email addresses",
        validators=[Optional(), Length(max=7000)],
        render_kw={"rows": 2, "spellcheck": "false"},
        description="For email: one per line or separated by commas.",
    )
    comment_required = BooleanField("Only answers with a comment")
    property_key = StringField(
        "Property name",
        validators=[Optional(), Length(max=100)],
        description="e.g. plan",
    )
    property_value = StringField(
        "Property value", validators=[Optional(), Length(max=1000)], description="e.g. enterprise"
    )
    revenue_property = StringField(
        "Revenue property",
        validators=[Optional(), Length(max=100)],
        description="a numeric property, e.g. mrr",
    )
    revenue_min = FloatField("Minimum revenue", validators=[Optional()], description="e.g. 1000")
    group_seconds = IntegerField(
        "Group window (seconds)",
        default=60,
        validators=[InputRequired(), NumberRange(min=0, max=86_400)],
        description="Matches within this window go out as one message.",
    )
    active = BooleanField("Active", default=True)
