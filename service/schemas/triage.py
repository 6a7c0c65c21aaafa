"""Schemas of triage: tags, notes, follow-ups, follow-up settings, recovery, and the triage
filters that response lists, metrics and exports share."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.schemas.common import UtcDateTime, id_field
from service.schemas.movement import MovementPeriodSchema, RepeatNpsSchema, period_unit_field
from surveys.response_filters import FOLLOW_UP_STATUSES


class TriageFilterArgs(Schema):
    tag_id = id_field(metadata={"description": "Responses carrying this tag."})
    status = fields.String(
        validate=validate.OneOf([*FOLLOW_UP_STATUSES, "none"]),
        metadata={"description": "Follow-up status: new, contacted, resolved; none: no follow-up."},
    )
    owner = fields.Email(
        validate=validate.Length(max=320),
        metadata={"description": "Follow-ups owned by the project member with this email."},
    )
    overdue = fields.Boolean(
        metadata={"description": "true: follow-ups past their due time and not resolved."}
    )


class TagSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    uses = fields.Integer(dump_only=True, metadata={"description": "Responses carrying it."})
    created_at = UtcDateTime(dump_only=True)


class TagPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=64))


class TagListSchema(Schema):
    items = fields.List(fields.Nested(TagSchema))


class TagRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class ResponseTagsSchema(Schema):
    response_id = fields.Integer()
    tags = fields.List(fields.Nested(TagRefSchema))


class NoteCreateSchema(Schema):
    # Read by the view after the response is found, so another project's response is a 404
    # whatever the body, and a bad body on the project's own is a 422.
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10_000),
        metadata={"description": "1 to 10,000 characters."},
    )
    author_email = fields.Email(
        required=True,
        validate=validate.Length(max=320),
        metadata={"description": "The project member who writes the note."},
    )


class NoteDeleteArgs(Schema):
    author_email = fields.Email(
        validate=validate.Length(max=320),
        metadata={"description": "Only the note's author may delete it (else 403)."},
    )


class NoteSchema(Schema):
    id = fields.Integer()
    response_id = fields.Integer()
    author_email = fields.String(allow_none=True)
    text = fields.String()
    created_at = UtcDateTime()


class NoteListSchema(Schema):
    items = fields.List(fields.Nested(NoteSchema))


FOLLOW_UP_DESCRIPTION = """A follow-up is the call-back on one response: `status` goes new ->
contacted -> resolved (resolving needs a `reason`; going back drops it), an `owner` (a project
member) and `due_at`, set when it opens to the project's SLA hours for the response's segment.
`overdue` is true past `due_at` while not resolved. PATCH opens one on a response that has
none. With follow-up on (`/follow-up-settings`), the worker opens one for every new detractor
and every answer that moved down against the person's previous one (`source` auto)."""


class FollowUpSchema(Schema):
    response_id = fields.Integer()
    status = fields.String(metadata={"enum": list(FOLLOW_UP_STATUSES)})
    owner_email = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    due_at = UtcDateTime(allow_none=True)
    overdue = fields.Boolean()
    source = fields.String(metadata={"enum": ["auto", "manual"]})
    opened_at = UtcDateTime()
    contacted_at = UtcDateTime(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)


class FollowUpPatchSchema(Schema):
    status = fields.String(validate=validate.OneOf(FOLLOW_UP_STATUSES))
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    owner_email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=320),
        metadata={"description": "A project member; null takes the owner off."},
    )
    due_at = UtcDateTime(allow_none=True)


class SlaHoursSchema(Schema):
    detractor = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=24 * 365))
    passive = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=24 * 365))
    promoter = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=24 * 365))


class FollowUpSettingsSchema(Schema):
    enabled = fields.Boolean(
        metadata={"description": "On: the worker opens follow-ups for answers from now on."}
    )
    sla_hours = fields.Nested(
        SlaHoursSchema, metadata={"description": "Hours to due, per segment; absent: none."}
    )
    owner_property = fields.String(
        allow_none=True,
        validate=validate.Length(max=255),
        metadata={
            "description": "A person property holding a member's email (e.g. account_owner): "
            "that member owns the follow-ups opened by themselves."
        },
    )


RECOVERY_DESCRIPTION = """Recovery: did following up detractors win them back?

The detractors of period P (`from`; default: the period before the last complete one) are the
people whose counted answer to the survey in P scored 0–6 (the same counted answers as
`/metrics/movement`). `followed_up`: those with a **resolved** follow-up on an answer of theirs
to the survey in P; `not_followed_up`: the rest (no follow-up, or one still new or contacted).
For each group:

- `answered_next`: `count` of `of` (the group's detractors) who answered again in P+1 (`to`),
  `share` = count / of with its 95% Wilson interval (`ci_low`, `ci_high`);
- `promoters_next`, `passives_next`, `detractors_next`: their segment in P+1;
- `change`: the paired NPS change from P to P+1 of those who answered again (everyone starts
  at NPS −100), d_i = (promoter − detractor in P+1) + 1 ∈ {0, 1, 2}; `change` = 100 · mean(d)
  with its 95% t interval, as `repeat_nps` of `/metrics/movement`."""


class RecoveryArgs(Schema):
    survey_id = id_field(required=True)
    period = period_unit_field()
    from_ = fields.String(
        data_key="from",
        metadata={"description": "Period P, e.g. 2026-Q1; P+1 is the one after it."},
    )


class ShareSchema(Schema):
    count = fields.Integer()
    of = fields.Integer()
    share = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)


class GroupRecoverySchema(Schema):
    detractors = fields.Integer()
    answered_next = fields.Nested(ShareSchema)
    promoters_next = fields.Integer()
    passives_next = fields.Integer()
    detractors_next = fields.Integer()
    change = fields.Nested(RepeatNpsSchema)


class RecoverySchema(Schema):
    survey_id = fields.Integer()
    period = fields.String()
    time_zone = fields.String()
    from_ = fields.Nested(MovementPeriodSchema, data_key="from", attribute="from")
    to = fields.Nested(MovementPeriodSchema)
    followed_up = fields.Nested(GroupRecoverySchema)
    not_followed_up = fields.Nested(GroupRecoverySchema)
