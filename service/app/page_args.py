"""The query arguments of the team app's data pages, parsed like the API's, with bad values
explained on the page instead of a 500."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.schemas.common import PropertyFilterArgs, id_field
from service.schemas.movement import MovementArgs
from surveys.answers import RESPONSE_CHANNELS
from surveys.errors import Invalid
from surveys.periods import parse_label_start
from surveys.response_filters import FOLLOW_UP_STATUSES, ResponseFilters
from surveys.segments import SEGMENTS, Segment

FEED_PAGE_SIZE = 25


def _quarter(label: str) -> None:
    try:
        parse_label_start(label, "quarter")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class FeedArgs(PropertyFilterArgs):
    period = fields.String(validate=_quarter, metadata={"description": "e.g. 2026-Q1"})
    segment = fields.String(validate=validate.OneOf([s.value for s in SEGMENTS]))
    channel = fields.String(validate=validate.OneOf(RESPONSE_CHANNELS))
    theme = id_field()
    survey = id_field()
    q = fields.String(validate=validate.Length(max=200))
    tag = id_field()
    status = fields.String(validate=validate.OneOf([*FOLLOW_UP_STATUSES, "none"]))
    owner = fields.Email(validate=validate.Length(max=320))
    older = id_field()
    newer = id_field()


class MovementPageArgs(MovementArgs):
    # The page picks the project's first survey when none is asked for.
    survey_id = id_field()
    # Which page of movers (worst drops first) the page shows.
    movers_page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


def parse(schema: Schema, args: Any) -> dict[str, Any]:
    """Arguments without empty fields (a form sends every field), or Invalid naming the bad
    ones, which the app's error page explains."""
    present = {k: v for k, v in args.items() if v != ""}
    try:
        return schema.load(present)
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}: {' '.join(map(str, why if isinstance(why, list) else [why]))}"
            for name, why in sorted(exc.messages.items())
        )
        raise Invalid(f"These filters could not be read. {problems}", exc.messages) from exc


def feed_filters(args: dict[str, Any], since_until: tuple[Any, Any] | None) -> ResponseFilters:
    since, until = since_until or (None, None)
    return ResponseFilters(
        survey_id=args.get("survey"),
        since=since,
        until=until,
        segment=Segment(args["segment"]) if args.get("segment") else None,
        channel=args.get("channel"),
        text=args.get("q") or None,
        theme_id=args.get("theme"),
        property_name=args.get("property"),
        property_value=args.get("property_value"),
        tag_id=args.get("tag"),
        follow_up_status=args.get("status"),
        owner_email=args.get("owner"),
    )
