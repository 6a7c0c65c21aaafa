"""Schemas of the NPS metrics query and answer."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.schemas.common import PropertyFilterArgs, UtcDateTime, id_field
from service.schemas.triage import TriageFilterArgs
from surveys.answers import RESPONSE_CHANNELS

NPS_DESCRIPTION = """NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100.

A person counts once per bucket, with their latest non-excluded scored answer in that bucket
(`count=all` counts every answer). Periods are cut in the project's time zone. Answers
without a score count in no NPS.

`margin_of_error` is the 95% adjusted-Wald half-width: with n' = n + 3,
p' = (promoters + 3/4) / n', d' = (detractors + 3/4) / n',
margin = 1.96 · sqrt((p' + d' − (p' − d')²) / n') · 100, and `ci_low`/`ci_high` =
100·(p' − d') ± margin, clipped to [−100, 100]. `low_sample` is true under 30 responses.
With `weight=property:<name>` the segment shares are weight sums and n is Kish's effective
sample size (Σw)²/Σw²; answers whose property is absent or not a JSON number are left out.
For period buckets, `change` is the difference from the previous
bucket with its 95% interval (variances of the two adjusted estimates added);
`significant` when the interval excludes 0."""


class MetricsArgs(TriageFilterArgs, PropertyFilterArgs):
    survey_id = id_field()
    since = UtcDateTime()
    until = UtcDateTime()
    channel = fields.String(validate=validate.OneOf(RESPONSE_CHANNELS))
    group_by = fields.String(
        metadata={
            "description": "quarter, month, week, channel, locale or property:<name>",
            "example": "quarter",
        }
    )
    weight = fields.String(metadata={"description": "property:<numeric name>, e.g. property:mrr"})
    count = fields.String(load_default="person", validate=validate.OneOf(["person", "all"]))


class WeightedSchema(Schema):
    promoters = fields.Float()
    passives = fields.Float()
    detractors = fields.Float()
    total = fields.Float()
    effective_n = fields.Float()


class ChangeSchema(Schema):
    change = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    significant = fields.Boolean()


class BucketSchema(Schema):
    key = fields.String(allow_none=True)
    start = UtcDateTime()
    end = UtcDateTime()
    responses = fields.Integer()
    promoters = fields.Integer()
    passives = fields.Integer()
    detractors = fields.Integer()
    promoters_pct = fields.Float(allow_none=True)
    passives_pct = fields.Float(allow_none=True)
    detractors_pct = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True)
    margin_of_error = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    low_sample = fields.Boolean()
    weighted = fields.Nested(WeightedSchema)
    change = fields.Nested(ChangeSchema, allow_none=True)


class MetricsSchema(Schema):
    group_by = fields.String(allow_none=True)
    count = fields.String()
    weight = fields.String(allow_none=True)
    time_zone = fields.String()
    overall = fields.Nested(BucketSchema)
    buckets = fields.List(fields.Nested(BucketSchema))
