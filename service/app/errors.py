"""The team app's error pages: HTML in the layout, where the rest of the service answers JSON."""

from __future__ import annotations

import logging

from flask import render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from service.app.access import public
from service.app.shell import bp
from service.app.throttle import Throttled
from service.errors import status_of
from surveys.errors import DomainError

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be read",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    409: "That would not work",
    413: "Too large",
    422: "Please check what you entered",
    429: "Too many attempts",
    500: "Something went wrong",
}


def error_page(  # noqa: ANN201
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    title: str | None = None,
    back: tuple[str, str] | None = None,
):
    """The error in the layout; `back` (address, words) leads where the user came from,
    else the page offers the overview."""
    title = title or TITLES.get(status, "Something went wrong")
    page = render_template("app/error.html", status=status, title=title, message=message, back=back)
    return page, status, headers or {}


@bp.errorhandler(CSRFError)
def form_token_missing(exc: CSRFError):  # noqa: ANN201
    return error_page(
        400,
        f"{exc.description} Forms are accepted only from this site's own pages, and only while "
        "the sign-in they were opened in lasts. Go back, reload the page and try again.",
        title="This form could not be accepted",
    )


@bp.errorhandler(Throttled)
def throttled(exc: Throttled):  # noqa: ANN201
    minutes = max(1, round(exc.retry_after / 60))
    back = None
    if exc.scope == "sign-in-failures":
        message = "Too many failed sign-ins for this account."
    elif exc.scope == "reset-emails":
        message = "Enough reset emails went to this address for now."
    elif exc.scope == "test-emails":
        message = "You have sent enough test emails for now; the last ones are on their way."
        survey_id = (request.view_args or {}).get("survey_id")
        if survey_id is not None:
            back = (url_for("app.edit_survey", survey_id=survey_id), "Back to the survey")
    else:
        message = "Too many attempts from your network."
    when = "a minute" if minutes == 1 else f"{minutes} minutes"
    return error_page(
        429, f"{message} Try again in {when}.", {"Retry-After": str(exc.retry_after)}, back=back
    )


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):  # noqa: ANN201
    return error_page(status_of(exc), exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):  # noqa: ANN201
    status = exc.code or 500
    messages = {
        403: "Your role in this project does not allow that. An owner can change roles.",
        404: "There is no page at this address.",
    }
    return error_page(status, messages.get(status, exc.description or ""))


@bp.errorhandler(Exception)
def unexpected(exc: Exception):  # noqa: ANN201
    log.exception("unhandled error in the team app")
    return error_page(500, "The error was logged. Please try again in a moment.")


@bp.route("/<path:anything>", methods=["GET", "POST"])
@public
def not_found(anything: str):  # noqa: ANN201
    """Unknown addresses under /app get the HTML page, not the API's JSON."""
    return error_page(404, "There is no page at this address.")
