"""The survey form of the team app: its fields, and the translation between the form and the
API's survey data (the same `SurveySchema` checks both doors, so the rules live once)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as SubForm
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from service.app.forms import Form
from service.schemas.surveys import SurveySchema
from surveys.catalog import CHANNELS
from surveys.models import Survey
from surveys.segments import SEGMENTS
from surveys.texts import DEFAULT_LOCALE, LOCALES

SEGMENT_NAMES = tuple(s.value for s in SEGMENTS)
CHANNEL_LABELS = {"email": "Email", "widget": "Widget", "link": "Link"}
# Fields whose text is per locale, by their key in the survey data.
LOCALE_TEXTS = ("question", "email_subject", "email_intro")
NUMBERS = ("cadence_days", "first_delay_days", "min_age_days", "reminder_after_days")
# Numbers the survey may leave unset (null); an empty field clears them.
NULLABLE = ("reminder_after_days",)
_NUMBER = {"inputmode": "numeric", "class": "short"}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocaleTextsForm(SubForm):
    """One locale's texts; an empty text keeps the built-in one (English, Russian, Chinese)."""

    locale = StringField(
        "Locale",
        validators=[Optional()],
        render_kw={"class": "short", "spellcheck": "false", "autocomplete": "off"},
        description="A language tag: en, ru, zh, or any other such as pt-BR.",
    )
    question = TextAreaField("Question", render_kw={"rows": 2})
    email_subject = StringField("Email subject")
    email_intro = TextAreaField("Email introduction", render_kw={"rows": 2})
    promoter = TextAreaField("Follow-up after 9–10 (promoters)", render_kw={"rows": 2})
    passive = TextAreaField("Follow-up after 7–8 (passives)", render_kw={"rows": 2})
    detractor = TextAreaField("Follow-up after 0–6 (detractors)", render_kw={"rows": 2})


class SurveyForm(Form):
    name = StringField("Name", validators=[InputRequired()])
    product_name = StringField(
        "Product name", description="Put in place of {product} in the texts."
    )
    active = BooleanField(
        "Active", description="A closed survey sends nothing and takes no more answers."
    )
    channels = CheckboxesField(
        "Channels", choices=[(c, CHANNEL_LABELS[c]) for c in CHANNELS], validate_choice=False
    )
    cadence_days = IntegerField(
        "Cadence (days)",
        validators=[Optional()],
        render_kw=_NUMBER,
        description="How often the same person is asked again; 90 is a quarter.",
    )
    first_delay_days = IntegerField(
        "First delay (days)",
        validators=[Optional()],
        render_kw=_NUMBER,
        description="Days before a new person's first email.",
    )
    sample_rate = StringField(
        "Sampling",
        render_kw={"inputmode": "decimal", "class": "short"},
        description="The share of due people who are asked, from 0 to 1 (0.25: one in four).",
    )
    min_age_days = IntegerField(
        "Minimum customer age (days)",
        validators=[Optional()],
        render_kw=_NUMBER,
        description="Nobody is asked sooner after they became a customer.",
    )
    reminder_after_days = IntegerField(
        "Reminder after (days)",
        validators=[Optional()],
        render_kw=_NUMBER,
        description="Empty: no reminder.",
    )
    send_window_start = StringField(
        "Send from",
        render_kw={"class": "short", "placeholder": "09:00"},
        description="Local time, HH:MM. Both empty: any time.",
    )
    send_window_end = StringField(
        "Send until", render_kw={"class": "short", "placeholder": "17:00"}
    )
    texts = FieldList(FormField(LocaleTextsForm), min_entries=1)
    preview_locale = SelectField("Preview in", choices=[], validate_choice=False)

    def set_locale_choices(self) -> None:
        mine = [row.locale.data.strip() for row in self.texts if (row.locale.data or "").strip()]
        choices = list(dict.fromkeys([*mine, *LOCALES]))
        self.preview_locale.choices = [(c, c) for c in choices]
        if self.preview_locale.data not in choices:
            self.preview_locale.data = mine[0] if mine else DEFAULT_LOCALE


def form_data(survey: Survey | None) -> dict[str, Any]:
    """The form's initial values: a stored survey's, or a new survey's defaults."""
    if survey is None:
        return {
            "active": True,
            "channels": list(CHANNELS),
            "cadence_days": 90,
            "first_delay_days": 0,
            "sample_rate": "1",
            "min_age_days": 30,
            "send_window_start": "09:00",
            "send_window_end": "17:00",
            "texts": [{"locale": DEFAULT_LOCALE}],
        }
    followup = survey.followup or {}
    locales = list(
        dict.fromkeys(
            key
            for texts in [*(getattr(survey, n) or {} for n in LOCALE_TEXTS), *followup.values()]
            for key in texts
        )
    )
    rows = [
        {
            "locale": locale,
            **{n: (getattr(survey, n) or {}).get(locale, "") for n in LOCALE_TEXTS},
            **{s: (followup.get(s) or {}).get(locale, "") for s in SEGMENT_NAMES},
        }
        for locale in locales
    ] or [{"locale": DEFAULT_LOCALE}]
    return {
        "name": survey.name,
        "product_name": survey.product_name or "",
        "active": survey.active,
        "channels": list(survey.channels),
        **{n: getattr(survey, n) for n in NUMBERS},
        "sample_rate": f"{survey.sample_rate:g}",
        "send_window_start": survey.send_window_start or "",
        "send_window_end": survey.send_window_end or "",
        "texts": rows,
    }


def locale_texts(form: SurveyForm) -> dict[str, Any]:
    """The texts of the form's locale rows, as the survey stores them: a row without a locale
    or without any text is left out; an empty text keeps the built-in one."""
    texts: dict[str, Any] = {n: {} for n in LOCALE_TEXTS}
    texts["followup"] = {}
    for row in form.texts:
        locale = (row.locale.data or "").strip()
        if not locale:
            continue
        for name in LOCALE_TEXTS:
            if row[name].data:
                texts[name][locale] = row[name].data
        for segment in SEGMENT_NAMES:
            if row[segment].data:
                texts["followup"].setdefault(segment, {})[locale] = row[segment].data
    return texts


def _duplicate_locales(form: SurveyForm) -> bool:
    seen: set[str] = set()
    found = False
    for row in form.texts:
        locale = (row.locale.data or "").strip()
        if locale and locale in seen:
            row.locale.errors = ["This locale has a row above already."]
            found = True
        seen.add(locale)
    return found


def survey_data(form: SurveyForm) -> dict[str, Any] | None:
    """The survey the form describes, loaded by the API's schema; None when a field is wrong
    (its message is then on the form, under the field)."""
    valid = form.validate()
    if not form.channels.data:
        form.channels.errors = ["Choose at least one channel."]
    one_bound = bool(form.send_window_start.data) != bool(form.send_window_end.data)
    if one_bound:
        form.send_window_end.errors = ["Set both times, or neither for any time of day."]
    if not valid or not form.channels.data or one_bound or _duplicate_locales(form):
        return None
    raw: dict[str, Any] = {
        "name": form.name.data or "",
        "product_name": (form.product_name.data or "").strip() or None,
        "active": form.active.data,
        "channels": form.channels.data or [],
        "sample_rate": (form.sample_rate.data or "").strip() or "1",
        **locale_texts(form),
    }
    for name in NUMBERS:
        value = form[name].data
        if value is not None or name in NULLABLE:
            raw[name] = value
    start = (form.send_window_start.data or "").strip()
    end = (form.send_window_end.data or "").strip()
    bounds = {"start": start, "end": end}
    raw["send_window"] = {k: v for k, v in bounds.items() if v} if start or end else None
    try:
        return SurveySchema().load(raw)
    except ValidationError as exc:
        show_schema_errors(form, exc.normalized_messages())
        return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    if isinstance(messages, list | tuple):
        return [m for value in messages for m in _flatten(value)]
    return [str(messages)]


def _row_of(form: SurveyForm, locale: str) -> LocaleTextsForm | None:
    return next((r.form for r in form.texts if (r.locale.data or "").strip() == locale), None)


def _text_errors(form: SurveyForm, name: str, per_locale: Any, label: str) -> None:
    """A locale text's errors under its field in that locale's row."""
    for locale, problems in per_locale.items():
        row = _row_of(form, str(locale))
        # {"ru": {"key": [...], "value": [...]}}: the key is the locale, the value the text.
        key = problems.get("key") if isinstance(problems, dict) else None
        value = problems.get("value") if isinstance(problems, dict) else problems
        if row is not None and key:
            row.locale.errors = [f"Locale: {_sentence(m)}" for m in _flatten(key)]
        if row is not None and value:
            row[name].errors = [_sentence(m) for m in _flatten(value)]
        elif value:
            form.form_errors.append(f"{label} ({locale}): {_sentence(_flatten(value)[0])}")


def show_schema_errors(form: SurveyForm, messages: dict[str, Any]) -> None:
    """The schema's messages under the fields they belong to; the rest above the form."""
    for name, problems in messages.items():
        if name in LOCALE_TEXTS and isinstance(problems, dict):
            _text_errors(form, name, problems, name.replace("_", " ").capitalize())
        elif name == "followup" and isinstance(problems, dict):
            for segment, per_locale in problems.items():
                inner = per_locale.get("value") if isinstance(per_locale, dict) else None
                if isinstance(inner, dict) and segment in SEGMENT_NAMES:
                    _text_errors(form, segment, inner, f"Follow-up for {segment}s")
                else:
                    form.form_errors.extend(_sentence(m) for m in _flatten(per_locale))
        elif name == "send_window":
            bounds = problems if isinstance(problems, dict) else {"end": problems}
            for bound, said in bounds.items():
                field = form.send_window_start if bound == "start" else form.send_window_end
                field.errors = [_sentence(m) for m in _flatten(said)]
        elif name in form:
            form[name].errors = [_sentence(m) for m in _flatten(problems)]
        else:
            form.form_errors.extend(_sentence(m) for m in _flatten(problems))
