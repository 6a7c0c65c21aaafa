"""The team app's blueprint and what every page shares: sign-in and role checks, the form
token, the current project, security headers and the layout's context."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from service.app.access import SAFE_METHODS, access_of
from service.app.nav import nav_for
from service.db import db
from surveys.accounts.roles import Role, sees_emails
from surveys.accounts.users import ProjectRole, projects_of
from surveys.models import Project, User

bp = Blueprint(
    "app",
    __name__,
    url_prefix="/app",
    template_folder="templates",
    static_folder="static",
)

# No inline script or style anywhere: every byte of CSS and script comes from /app/static.
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PROJECT_KEY = "project_id"


@dataclass(frozen=True)
class TeamContext:
    """The signed-in user, their projects, and the one they are looking at (None: none)."""

    user: User
    projects: list[ProjectRole]
    current: ProjectRole | None

    @property
    def project(self) -> Project:
        assert self.current is not None, "a project page runs only with a current project"
        return self.current.project

    @property
    def role(self) -> Role | None:
        return self.current.role if self.current else None

    @property
    def sees_emails(self) -> bool:
        return self.current is not None and sees_emails(self.current.role, self.project)


def team() -> TeamContext:
    """The context of the page being served (set by the sign-in check)."""
    return g.team


def _team_context(user: User) -> TeamContext:
    projects = projects_of(db(), user.id)
    wanted = session.get(PROJECT_KEY)
    current = next((p for p in projects if p.project.id == wanted), None)
    if current is None and projects:
        current = projects[0]
    return TeamContext(user, projects, current)


def choose_project(project_id: int) -> bool:
    """Make the project current for this browser, when the user is a member of it."""
    if not any(p.project.id == project_id for p in team().projects):
        return False
    session[PROJECT_KEY] = project_id
    return True


def _check_form_token() -> None:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from exc


@bp.before_request
def guard() -> Response | str | tuple[str, int] | None:
    """Every request to /app: the form token on posts, then what the view's access asks."""
    if request.endpoint == "app.static":
        return None
    if request.method not in SAFE_METHODS:
        _check_form_token()
    access = access_of(current_app.view_functions.get(request.endpoint or ""))
    if not current_user.is_authenticated:
        if not access.signed_in:
            return None
        return current_app.extensions["flywheel_login"].unauthorized()
    # Public pages too (a 404, say) show a signed-in user the layout with their projects.
    g.team = context = _team_context(current_user.user)
    if not access.member:
        return None
    if context.current is None:
        return render_template("app/no_projects.html"), 403
    if not context.current.role.at_least(access.role_for(request.method)):
        abort(403)
    return None


@bp.after_request
def security_headers(response: Response) -> Response:
    # A view may set a stricter policy of its own (a survey preview, framed by our pages).
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("X-Frame-Options", "DENY")
    # One-time links carry their token in the path: no page sends its address anywhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "app.static":
        # Pages show a project's data: no shared cache keeps them, no back button after
        # signing out shows them again.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def layout_context() -> dict[str, object]:
    context: TeamContext | None = g.get("team")
    return {
        "team": context,
        "nav": nav_for(context.role if context else None),
        "csrf_token": generate_csrf,
    }
