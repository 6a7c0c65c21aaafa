"""Segment movement between periods, and the movers behind it."""

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.movement import (
    MOVEMENT_DESCRIPTION,
    MOVERS_DESCRIPTION,
    MovementArgs,
    MovementSchema,
    MoversArgs,
    MoverSchema,
)
from surveys.analytics.movement import MovementQuery, movement
from surveys.analytics.movers import MoversQuery, list_movers
from surveys.clock import utcnow

bp = api_blueprint("movement", __name__, "Segment movement from one period to the next.")


def _pair_query(args: dict, **extra) -> MovementQuery:
    return MovementQuery(
        survey_id=args["survey_id"],
        unit=args["period"],
        from_label=args.get("from_"),
        to_label=args.get("to"),
        **extra,
    )


def movement_query(args: dict) -> MovementQuery:
    """The query of `MovementArgs`; `GET /export/movement` reads the same arguments."""
    return _pair_query(
        args,
        weight_property=args.get("weight"),
        series=args["series"],
        since=args.get("since"),
        until=args.get("until"),
    )


@bp.route("/metrics/movement", methods=["GET"])
@bp.arguments(MovementArgs, location="query")
@bp.response(200, MovementSchema)
@bp.doc(description=MOVEMENT_DESCRIPTION)
def read_movement(args):
    """Movement matrix, new and lapsed people, and the paired NPS change."""
    return movement(db(), current_project(), movement_query(args), utcnow())


@bp.route("/movement/people", methods=["GET"])
@bp.arguments(MoversArgs, location="query")
@bp.response(200, page_schema(MoverSchema, "MoverPage"))
@bp.doc(description=MOVERS_DESCRIPTION)
def list_movement_people(args):
    """The people who moved (or stayed, came or lapsed), with both answers."""
    query = MoversQuery(
        pair=_pair_query(args),
        from_segment=args.get("from_segment"),
        to_segment=args.get("to_segment"),
        movement=args.get("movement"),
    )
    page = list_movers(
        db(),
        current_project(),
        query,
        utcnow(),
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
    )
    return page_response(page, MoverSchema())
