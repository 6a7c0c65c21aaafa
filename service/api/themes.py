"""Theme runs and friction points: queue a run, follow it, read its ranked themes."""

from __future__ import annotations

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.responses import ResponseSchema
from service.schemas.themes import (
    IMPACT_DESCRIPTION,
    THEME_EDIT_DESCRIPTION,
    FrictionPointSchema,
    ThemeListArgs,
    ThemeListSchema,
    ThemeMergeSchema,
    ThemePatchSchema,
    ThemeResponseArgs,
    ThemeRunCreateSchema,
    ThemeRunListArgs,
    ThemeRunSchema,
)
from surveys.clock import utcnow
from surveys.response_context import attach_contexts
from surveys.themes import edits, reading, runs

bp = api_blueprint("themes", __name__, "Friction points: complaint themes ranked by cost.")


@bp.route("/themes/runs", methods=["POST"])
@bp.arguments(ThemeRunCreateSchema)
@bp.response(202, ThemeRunSchema)
def queue_run(data):
    """Queue a theme run; the worker fits it (follow it at `GET /themes/runs/{id}`)."""
    params = runs.make_params(**data)
    run = runs.queue_run(db(), current_project().id, params, now=utcnow())
    db().commit()
    return run


@bp.route("/themes/runs", methods=["GET"])
@bp.arguments(ThemeRunListArgs, location="query")
@bp.response(200, page_schema(ThemeRunSchema, "ThemeRunPage"))
def list_runs(args):
    """List the project's theme runs, oldest first, with cursor pagination."""
    page = runs.list_runs(
        db(),
        current_project().id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
        status=args.get("status"),
    )
    return page_response(page, ThemeRunSchema())


@bp.route("/themes/runs/<int:run_id>", methods=["GET"])
@bp.response(200, ThemeRunSchema)
def read_run(run_id):
    """A run's status (queued, running, done, failed with a message), counts and duration."""
    return runs.get_run(db(), current_project().id, run_id)


@bp.route("/themes", methods=["GET"])
@bp.arguments(ThemeListArgs, location="query")
@bp.response(200, ThemeListSchema)
@bp.doc(description=IMPACT_DESCRIPTION)
def list_themes(args):
    """The ranked friction points of a run (default: the newest done run)."""
    run, points = reading.list_points(
        db(), current_project().id, args.get("run_id"), args["sort"], hidden=args["hidden"]
    )
    return {"run": run, "sort": args["sort"], "items": points}


@bp.route("/themes/<int:point_id>", methods=["GET"])
@bp.response(200, FrictionPointSchema)
@bp.doc(description=IMPACT_DESCRIPTION)
def read_theme(point_id):
    """One friction point with its numbers, trend and quotes."""
    return reading.get_point(db(), current_project().id, point_id)


@bp.route("/themes/<int:point_id>/responses", methods=["GET"])
@bp.arguments(ThemeResponseArgs, location="query")
@bp.response(200, page_schema(ResponseSchema, "ThemeResponsePage"))
def theme_responses(args, point_id):
    """The responses of one friction point, oldest first, with cursor pagination."""
    session, project_id = db(), current_project().id
    page = reading.point_responses(
        session,
        project_id,
        point_id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
    )
    attach_contexts(session, project_id, page.items)
    return page_response(page, ResponseSchema())


@bp.route("/themes/<int:point_id>", methods=["PATCH"])
@bp.arguments(ThemePatchSchema)
@bp.response(200, FrictionPointSchema)
@bp.doc(description=THEME_EDIT_DESCRIPTION)
def edit_theme(data, point_id):
    """Rename a theme or hide it (and later runs' matching themes)."""
    session, project_id, now = db(), current_project().id, utcnow()
    point = reading.get_point(session, project_id, point_id)
    if "label" in data:
        point = edits.rename(session, project_id, point_id, data["label"], now)
    if "hidden" in data:
        point = edits.set_hidden(session, project_id, point_id, data["hidden"], now)
    session.commit()
    return point


@bp.route("/themes/<int:point_id>/merge", methods=["POST"])
@bp.arguments(ThemeMergeSchema)
@bp.response(200, FrictionPointSchema)
@bp.doc(description=THEME_EDIT_DESCRIPTION)
def merge_themes(data, point_id):
    """Merge another theme of the same run into this one."""
    session = db()
    point = edits.merge(session, current_project().id, point_id, data["theme_id"], utcnow())
    session.commit()
    return point
