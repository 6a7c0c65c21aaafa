"""Segment movement between periods, and the movers behind it."""

from service.api.base import api_blueprint
from service.api.queries import movement_query, movers_query
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
from surveys.analytics.movement import movement
from surveys.analytics.movers import list_movers
from surveys.clock import utcnow

bp = api_blueprint("movement", __name__, "Segment movement from one period to the next.")


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
    page = list_movers(
        db(),
        current_project(),
        movers_query(args),
        utcnow(),
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
    )
    return page_response(page, MoverSchema())
