"""Schemas of segment movement between periods and of the movers list, with their definitions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.pagination import PageArgs
from service.schemas.common import UtcDateTime, id_field
from surveys.analytics.movement import MOVEMENT_UNITS
from surveys.analytics.movers import MOVEMENT_KINDS, SEGMENT_FILTERS
from surveys.segments import MOVEMENTS

MOVEMENT_DESCRIPTION = """Who moved between promoters (9–10), passives (7–8) and detractors (0–6)
from period A (`from`) to period B (`to`).

**Segment in a period**: the segment of the person's latest non-excluded scored answer to the
survey in that period. Periods are calendar quarters (default) or months (`period=month`), cut
in the project's time zone. Defaults: `to` is the last complete period, `from` the one before;
with only one of them given, the other is the adjacent period. `from` may also be any earlier
period (e.g. the same quarter a year before).

**Kinds**: `stayed` and moved (`moved_up`, `moved_down`) are people with a segment in both
periods (the repeat respondents); `new` have a segment in B and none in A; `lapsed` one in A
and none in B. Deleted people are gone from every figure.

`matrix[from_segment][to_segment]` holds the `count` of repeat respondents and its row
percentage `pct` (share of that `from_segment`). `totals.from_respondents` counts everyone
with a segment in A (repeat + lapsed), `totals.to_respondents` everyone in B (repeat + new).
`stayed_pct`, `moved_up_pct`, `moved_down_pct` are shares of the repeat respondents.

**repeat_nps**: for the repeat respondents only, the NPS in A (`nps_from`) and in B
(`nps_to`) and the paired change with its 95% interval, computed from each person's own pair:
d_i = (promoter_B − detractor_B) − (promoter_A − detractor_A) ∈ {−2..2}; `change` =
100 · mean(d) = nps_to − nps_from; `ci_low`/`ci_high` = change ± 100 · t(0.975, n − 1) ·
s_d / √n with s_d the sample standard deviation of d; `significant` when the interval
excludes 0. No interval under 2 pairs; `low_sample` under 30.

**weight=property:<name>** adds `weighted`: the same matrix, new, lapsed, totals and shares
in summed weight. A person's weight is that numeric property in the snapshot of their counted
answer in B (else in A); people without it are left out of the weighted figures.
`revenue_at_risk` = weight of people who moved down (`moved_down`), of detractors in B (stayed,
moved down to or new as detractor: `detractors`) and of the union of both (`total`).

**series=true** answers `series`: the same for every consecutive pair of periods from the one
holding `since` to the one holding the instant before `until` (defaults: `until` = the start
of the current period, `since` three periods before the last complete one).

Per-response movement (`previous_segment`/`movement` on a response) compares an answer with the
same person's previous counted answer, whatever its period; it agrees with this when people
answer once a period."""

MOVERS_DESCRIPTION = """The people behind the movement figures between `from` and `to` (same
definitions and defaults as `/metrics/movement`), ordered by person id, cursor-paginated: each
with both segments, both counted answers (score, comment, time) and the kind of movement.
Filter with `from_segment` / `to_segment` (`none` lists new or lapsed people) and `movement`
(`up`, `down`, `stayed`, `moved`, `new`, `lapsed`)."""

SEGMENT_NAMES = [s for s in SEGMENT_FILTERS if s != "none"]


def period_unit_field() -> fields.String:
    """The `period` argument of every pair of periods: quarter (the default) or month."""
    return fields.String(
        load_default="quarter",
        validate=validate.OneOf(MOVEMENT_UNITS),
        metadata={"description": "quarter (labels 2026-Q1) or month (labels 2026-03)."},
    )


class PairArgs(Schema):
    survey_id = id_field(required=True)
    period = period_unit_field()
    from_ = fields.String(
        data_key="from", metadata={"description": "Period A, e.g. 2026-Q1 or 2026-03."}
    )
    to = fields.String(metadata={"description": "Period B, after A, e.g. 2026-Q2."})


class MovementArgs(PairArgs):
    weight = fields.String(metadata={"description": "property:<numeric name>, e.g. property:mrr"})
    series = fields.Boolean(
        load_default=False, metadata={"description": "Every consecutive pair in since/until."}
    )
    since = UtcDateTime(metadata={"description": "series: first period holds this instant."})
    until = UtcDateTime(metadata={"description": "series: last period ends at or after this."})


class MoversArgs(PageArgs, PairArgs):
    from_segment = fields.String(validate=validate.OneOf(SEGMENT_FILTERS))
    to_segment = fields.String(validate=validate.OneOf(SEGMENT_FILTERS))
    movement = fields.String(validate=validate.OneOf(MOVEMENT_KINDS))


class MovementPeriodSchema(Schema):
    key = fields.String(metadata={"example": "2026-Q1"})
    start = UtcDateTime()
    end = UtcDateTime()


def _cells(measure: str, kind: type[fields.Field]) -> fields.Dict:
    cell = type(
        f"Movement{measure.title()}CellSchema",
        (Schema,),
        {measure: kind(), "pct": fields.Float(allow_none=True)},
    )
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(SEGMENT_NAMES)),
        values=fields.Dict(
            keys=fields.String(validate=validate.OneOf(SEGMENT_NAMES)),
            values=fields.Nested(cell),
        ),
        metadata={"description": "matrix[from_segment][to_segment]"},
    )


SEGMENT_KEYS = ("promoter", "passive", "detractor", "total")
TOTAL_KEYS = (
    "from_respondents",
    "to_respondents",
    "repeat",
    "stayed",
    "moved",
    "moved_up",
    "moved_down",
    "new",
    "lapsed",
)
CountBySegmentSchema = type(
    "CountBySegmentSchema", (Schema,), {k: fields.Integer() for k in SEGMENT_KEYS}
)
WeightBySegmentSchema = type(
    "WeightBySegmentSchema", (Schema,), {k: fields.Float() for k in SEGMENT_KEYS}
)
MovementTotalsSchema = type(
    "MovementTotalsSchema", (Schema,), {k: fields.Integer() for k in TOTAL_KEYS}
)
MovementWeightTotalsSchema = type(
    "MovementWeightTotalsSchema", (Schema,), {k: fields.Float() for k in TOTAL_KEYS}
)


class RepeatNpsSchema(Schema):
    n = fields.Integer()
    nps_from = fields.Float(allow_none=True)
    nps_to = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    margin_of_error = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    significant = fields.Boolean()
    low_sample = fields.Boolean()


class RevenueAtRiskSchema(Schema):
    moved_down = fields.Float()
    detractors = fields.Float()
    total = fields.Float()


class WeightedMovementSchema(Schema):
    matrix = _cells("weight", fields.Float)
    new = fields.Nested(WeightBySegmentSchema)
    lapsed = fields.Nested(WeightBySegmentSchema)
    totals = fields.Nested(MovementWeightTotalsSchema)
    stayed_pct = fields.Float(allow_none=True)
    moved_up_pct = fields.Float(allow_none=True)
    moved_down_pct = fields.Float(allow_none=True)
    revenue_at_risk = fields.Nested(RevenueAtRiskSchema)


class MovementPairSchema(Schema):
    from_ = fields.Nested(MovementPeriodSchema, data_key="from", attribute="from")
    to = fields.Nested(MovementPeriodSchema)
    matrix = _cells("count", fields.Integer)
    new = fields.Nested(CountBySegmentSchema)
    lapsed = fields.Nested(CountBySegmentSchema)
    totals = fields.Nested(MovementTotalsSchema)
    stayed_pct = fields.Float(allow_none=True)
    moved_up_pct = fields.Float(allow_none=True)
    moved_down_pct = fields.Float(allow_none=True)
    repeat_nps = fields.Nested(RepeatNpsSchema)
    weighted = fields.Nested(WeightedMovementSchema, allow_none=True)


class MovementSchema(MovementPairSchema):
    survey_id = fields.Integer()
    period = fields.String()
    time_zone = fields.String()
    weight = fields.String(allow_none=True)
    series = fields.List(
        fields.Nested(MovementPairSchema), metadata={"description": "Only with series=true."}
    )


class MoverAnswerSchema(Schema):
    id = fields.Integer()
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    channel = fields.String()
    created_at = UtcDateTime()


class MoverPersonSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class MoverSchema(Schema):
    person = fields.Nested(MoverPersonSchema)
    from_period = fields.String(metadata={"example": "2026-Q1"})
    to_period = fields.String(metadata={"example": "2026-Q2"})
    from_segment = fields.String(allow_none=True, validate=validate.OneOf(SEGMENT_NAMES))
    to_segment = fields.String(allow_none=True, validate=validate.OneOf(SEGMENT_NAMES))
    movement = fields.String(metadata={"enum": [m.value for m in MOVEMENTS]})
    from_response = fields.Nested(MoverAnswerSchema, allow_none=True)
    to_response = fields.Nested(MoverAnswerSchema, allow_none=True)
