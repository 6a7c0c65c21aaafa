"""The settings page's forms (WTForms): the project's general settings, the widget's, and the
choice of key to rotate. Their values are checked by the API's own schema and domain rules."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired

from service.app.forms import Form
from surveys.projects import KeyKind

KEY_CHOICES = [
    (KeyKind.SECRET.value, "The secret key (the API)"),
    (KeyKind.PUBLISHABLE.value, "The publishable key (the widget)"),
    (KeyKind.IDENTITY.value, "The identity secret (signs user_hash)"),
    (KeyKind.ALL.value, "All three at once"),
]


class GeneralForm(Form):
    name = StringField("Project name", validators=[InputRequired()])
    time_zone = StringField(
        "Time zone",
        validators=[InputRequired()],
        description="An IANA zone such as Europe/Berlin: quarters and months are cut in it.",
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"},
    )
    throttle_days = IntegerField(
        "Survey nobody more than once per (days)",
        validators=[InputRequired(message="A whole number of days, 0 to 3650.")],
        description="The fatigue guard of email and widget surveys; 0 turns it off.",
        render_kw={"class": "short", "inputmode": "numeric"},
    )
    hide_emails_from_viewers = BooleanField("Hide people's email addresses from viewers")


class WidgetForm(Form):
    allowed_origins = TextAreaField(
        "Allowed origins",
        description="One per line, a scheme and a host, like https://app.example.com. "
        "Only pages there may show the widget.",
        render_kw={"rows": 4, "spellcheck": "false", "autocomplete": "off"},
    )
    require_identity_verification = BooleanField(
        "Require identity verification (a user_hash signed by your server)"
    )


class RotateForm(Form):
    kind = RadioField("Key to replace", choices=KEY_CHOICES, default=KeyKind.SECRET.value)
