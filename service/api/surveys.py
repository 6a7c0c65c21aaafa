"""Surveys: create, list, read and change."""

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.surveys import SurveyListArgs, SurveySchema
from surveys import catalog

bp = api_blueprint("surveys", __name__, "NPS surveys: texts, cadence, channels.")


@bp.route("/surveys", methods=["POST"])
@bp.arguments(SurveySchema)
@bp.response(201, SurveySchema)
def create_survey(data):
    """Create a survey. Unset texts fall back to built-in English, Russian and Chinese."""
    survey = catalog.create_survey(db(), current_project().id, data)
    db().commit()
    return survey


@bp.route("/surveys", methods=["GET"])
@bp.arguments(SurveyListArgs, location="query")
@bp.response(200, page_schema(SurveySchema, "SurveyPage"))
def list_surveys(args):
    """List surveys with cursor pagination."""
    page = catalog.list_surveys(
        db(),
        current_project().id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
        active=args.get("active"),
    )
    return page_response(page, SurveySchema())


@bp.route("/surveys/<int:survey_id>", methods=["GET"])
@bp.response(200, SurveySchema)
def read_survey(survey_id):
    """Read one survey."""
    return catalog.get_survey(db(), current_project().id, survey_id)


@bp.route("/surveys/<int:survey_id>", methods=["PATCH"])
@bp.arguments(SurveySchema(partial=True))
@bp.response(200, SurveySchema)
def patch_survey(data, survey_id):
    """Change a survey (any subset of fields); `active: false` closes it."""
    survey = catalog.update_survey(db(), current_project().id, survey_id, data)
    db().commit()
    return survey
