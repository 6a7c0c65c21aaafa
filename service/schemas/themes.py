"""Schemas of theme runs and friction points: queueing a run, reading runs and themes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.pagination import PageArgs
from service.schemas.common import UtcDateTime, id_field
from surveys.themes.reading import SORTS
from surveys.themes.runs import (
    DEFAULT_REVENUE_PROPERTY,
    DEFAULT_SEGMENTS,
    MAX_THEMES,
    MIN_THEMES,
    SEGMENT_CHOICES,
    STATUSES,
)

IMPACT_DESCRIPTION = """Friction points ranked by what they cost.

`nps_impact` = 100 · D / N: N is the number of people counted in the overall NPS of the run's
survey and dates (each person once, with their latest non-excluded scored answer, as
`/metrics/nps` counts), D the people whose counted answer is a detractor answer in this theme.
It is how many points NPS would rise if those detractors were passives. A counted answer has
one comment, so it is in at most one theme, and the impacts add up. `detractors`/`passives`
count distinct people with such a comment in the theme. `revenue_at_risk` sums the run's
`revenue_property` (default `mrr`) over the theme's people, each once, from the snapshot on
their latest comment in the theme. `trend` gives the theme's share of the run's comments in
each of the last four quarters (project time zone); `trend_slope` is the least-squares slope
in percentage points per quarter, `trend_direction` growing (≥ +1), shrinking (≤ −1) or
stable."""


class ThemeRunCreateSchema(Schema):
    survey_id = id_field(
        allow_none=True,
        metadata={"description": "Only this survey's comments; default: the whole project."},
    )
    since = UtcDateTime(allow_none=True, metadata={"description": "Created at or after."})
    until = UtcDateTime(allow_none=True, metadata={"description": "Created before."})
    segments = fields.List(
        fields.String(validate=validate.OneOf(SEGMENT_CHOICES)),
        load_default=lambda: list(DEFAULT_SEGMENTS),
        validate=validate.Length(min=1, max=len(SEGMENT_CHOICES)),
        metadata={
            "description": "Whose comments: detractor, passive, promoter and/or feedback "
            "(free-form feedback without survey or score)."
        },
    )
    n_themes = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=MIN_THEMES, max=MAX_THEMES),
        metadata={"description": "Fixed number of themes; default: chosen automatically."},
    )
    revenue_property = fields.String(
        load_default=DEFAULT_REVENUE_PROPERTY,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Numeric person property summed as revenue at risk."},
    )

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            raise ValidationError("until must be after since", "until")


def _utc_text(value: str | None) -> str | None:
    """Stored naive UTC ISO text, shown with a `Z` like every other time."""
    return value + "Z" if value and not value.endswith("Z") and "+" not in value else value


class RunParamsSchema(Schema):
    survey_id = fields.Integer(allow_none=True)
    since = fields.Function(lambda p: _utc_text(p.get("since")), allow_none=True)
    until = fields.Function(lambda p: _utc_text(p.get("until")), allow_none=True)
    segments = fields.List(fields.String())
    n_themes = fields.Integer(allow_none=True)
    revenue_property = fields.String()


class ThemeRunSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    message = fields.String(
        allow_none=True, metadata={"description": "Why a run failed, or a note on a done one."}
    )
    survey_id = fields.Integer(allow_none=True)
    params = fields.Nested(RunParamsSchema)
    counts = fields.Dict(
        metadata={
            "description": "comments, themes, assigned, unassigned, respondents, detractors, "
            "nps (overall, of the run's scope), assigned_after_run."
        }
    )
    unassigned_share = fields.Float(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    model_version = fields.String(allow_none=True)
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)


class ThemeRunListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class TrendPointSchema(Schema):
    period = fields.String(metadata={"example": "2026-Q1"})
    comments = fields.Integer()
    all_comments = fields.Integer()
    share = fields.Float(allow_none=True)


class QuoteSchema(Schema):
    response_id = fields.Integer()
    text = fields.String()
    score = fields.Integer(allow_none=True)


class FrictionPointSchema(Schema):
    id = fields.Integer()
    run_id = fields.Integer()
    rank = fields.Integer(metadata={"description": "1 = largest NPS impact."})
    label = fields.String()
    top_terms = fields.List(fields.String())
    size = fields.Integer()
    share = fields.Float(metadata={"description": "Of all the run's comments, 0–1."})
    detractors = fields.Integer()
    passives = fields.Integer()
    average_score = fields.Float(allow_none=True)
    nps_impact = fields.Float()
    revenue_at_risk = fields.Float(allow_none=True)
    trend = fields.List(fields.Nested(TrendPointSchema))
    trend_direction = fields.String(
        allow_none=True, metadata={"enum": ["growing", "shrinking", "stable"]}
    )
    trend_slope = fields.Float(allow_none=True)
    quotes = fields.List(fields.Nested(QuoteSchema))
    hidden = fields.Boolean(metadata={"description": "Hidden by a team member (or merged away)."})
    merged_into_id = fields.Integer(
        allow_none=True, metadata={"description": "The theme this one was merged into."}
    )


class ThemeListArgs(Schema):
    run_id = id_field(metadata={"description": "Default: the newest done run."})
    sort = fields.String(load_default="impact", validate=validate.OneOf(list(SORTS)))
    hidden = fields.Boolean(
        load_default=False, metadata={"description": "true: list hidden themes too."}
    )


THEME_EDIT_DESCRIPTION = """Rename a theme (`label`) or hide it from the lists (`hidden`), and
merge another theme of the same run into it (`POST /themes/{id}/merge`): its responses move
here and it is listed no more. Edits are kept and applied again when a later run finishes, to
the theme of the new run whose top terms overlap the edited theme's most: the Jaccard overlap of
the first 10 top terms of each, at least 0.4 (a merge needs both of its themes to match)."""


class ThemePatchSchema(Schema):
    label = fields.String(validate=validate.Length(min=1, max=255))
    hidden = fields.Boolean()


class ThemeMergeSchema(Schema):
    theme_id = id_field(
        required=True, metadata={"description": "The theme merged into this one (same run)."}
    )


class ThemeListSchema(Schema):
    run = fields.Nested(ThemeRunSchema, allow_none=True)
    sort = fields.String()
    items = fields.List(fields.Nested(FrictionPointSchema))


class ThemeResponseArgs(PageArgs):
    pass
