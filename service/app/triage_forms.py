"""The team app's triage forms: a tag, a note, a follow-up, and where to go back to."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from service.app.forms import Form
from surveys.loop.triage import MAX_NOTE, MAX_TAG_NAME
from surveys.loop.triage_followup import MAX_REASON
from surveys.response_filters import FOLLOW_UP_STATUSES


class BackForm(Form):
    # The page the form was on; only a path inside the team app is followed (see `back`).
    next = HiddenField()


class TagForm(BackForm):
    tag = SelectField("Tag", choices=[], validate_choice=False, validators=[Optional()])
    new_tag = StringField(
        "Or a new tag",
        validators=[Optional(), Length(max=MAX_TAG_NAME)],
        render_kw={"class": "short"},
    )


class NoteForm(BackForm):
    text = TextAreaField("Note", validators=[InputRequired(), Length(max=MAX_NOTE)])


class FollowUpForm(BackForm):
    status = SelectField(
        "Status", choices=[(s, s.capitalize()) for s in FOLLOW_UP_STATUSES], default="new"
    )
    owner = SelectField("Owner", choices=[], validate_choice=False, validators=[Optional()])
    reason = StringField("Reason (to resolve)", validators=[Optional(), Length(max=MAX_REASON)])
