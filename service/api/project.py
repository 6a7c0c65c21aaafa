"""GET/PATCH /api/v1/project: the calling project's own settings."""

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.schemas.project import ProjectSchema
from surveys.projects import update_project

bp = api_blueprint("project", __name__, "The calling project's settings.")


@bp.route("/project", methods=["GET"])
@bp.response(200, ProjectSchema)
def read_project():
    """Read the project's settings."""
    return current_project()


@bp.route("/project", methods=["PATCH"])
@bp.arguments(ProjectSchema(partial=True))
@bp.response(200, ProjectSchema)
def patch_project(changes):
    """Change the project's settings (any subset of the fields)."""
    project = update_project(db(), current_project(), changes)
    db().commit()
    return project
