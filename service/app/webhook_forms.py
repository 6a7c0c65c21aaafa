"""The webhooks page's forms: an endpoint (its URL, events and filters), and nothing else: the
confirm steps (delete, rotate) post only the form token."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from service.app.forms import Form
from service.app.survey_forms import CheckboxesField
from surveys.events import EVENT_TYPES
from surveys.segments import MAX_SCORE, MIN_SCORE, SEGMENTS

EVENT_LABELS = {
    "response.created": "An answer arrives",
    "response.updated": "An answer changes",
    "person.segment_changed": "A person's segment changes between periods",
    "theme_run.completed": "A friction-point run completes",
    "invitation.bounced": "An invitation bounces",
    "unsubscribe.created": "Someone unsubscribes",
}
# One label per event the domain knows; a new event type shows its own name until labelled.
EVENT_CHOICES = [(event, f"{EVENT_LABELS.get(event, event)} ({event})") for event in EVENT_TYPES]
SEGMENT_CHOICES = [("", "Any segment"), *((s.value, s.value.capitalize()) for s in SEGMENTS)]
_SCORE = {"inputmode": "numeric", "min": MIN_SCORE, "max": MAX_SCORE}


def _score(label: str) -> IntegerField:
    # The range is checked here for a sentence under the field, and again by the API's schema.
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=MIN_SCORE, max=MAX_SCORE)],
        render_kw=_SCORE,
    )


def _at_least_one(_form: Form, field: CheckboxesField) -> None:
    # Not DataRequired: that marks every box `required`, as if each had to be ticked.
    if not field.data:
        raise ValidationError("Choose at least one event.")


class WebhookForm(Form):
    url = StringField(
        "Endpoint URL",
        validators=[InputRequired(), Length(max=2048)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
        description="An https URL on a public address, e.g. https://example.com/hooks/flywheel.",
    )
    events = CheckboxesField(
        "Events",
        choices=EVENT_CHOICES,
        validators=[_at_least_one],
    )
    description = StringField(
        "Description", validators=[Optional(), Length(max=500)], description="For your team."
    )
    survey_id = SelectField("Survey", choices=[], coerce=str, default="")
    segment = SelectField("Segment", choices=SEGMENT_CHOICES, default="")
    score_min = _score("Lowest score")
    score_max = _score("Highest score")
    active = BooleanField("Active", default=True)
