"""`/w/v1/*`: what widget.js calls with the publishable key. Views only translate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import Schema, ValidationError

from service import tokens
from service.db import db
from service.errors import error_response
from service.widget import access
from service.widget.schemas import AnswerSchema, DisplayTokenSchema, FeedbackSchema, VisitSchema
from surveys import widget
from surveys.clock import utcnow
from surveys.errors import Invalid, NotFound
from surveys.keys import identity_secret

bp = Blueprint("widget", __name__, url_prefix="/w/v1")
bp.before_request(access.authenticate)
bp.after_request(access.add_cors_headers)

TOKEN_PURPOSE = "display"


class BadBody(Exception):
    """The body is not a JSON object."""


def parse(schema: Schema) -> dict[str, Any]:
    # force: widget.js sends text/plain so that browsers skip the CORS preflight round trip.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadBody()
    try:
        return schema.load(body)
    except ValidationError as exc:
        message = "invalid fields: " + ", ".join(sorted(exc.messages))
        raise Invalid(message, {"json": exc.messages}) from exc


@bp.errorhandler(BadBody)
def _bad_body(_exc: BadBody):
    return error_response(400, "malformed_json", "the request body is not a JSON object")


def _identity(data: dict[str, Any]) -> widget.Identity:
    fields = {k: v for k, v in data.items() if k in widget.IDENTITY_FIELDS and v is not None}
    return widget.Identity(
        anonymous_id=data.get("anonymous_id"),
        external_id=data.get("external_id"),
        user_hash=data.get("user_hash"),
        fields=fields,
    )


def _visitor(data: dict[str, Any]) -> widget.Visitor:
    project = access.widget_project()
    secret = identity_secret(current_app.config["SECRET_KEY"], project.identity_salt)
    return widget.resolve_visitor(db(), project, _identity(data), identity_secret=secret)


def _display_of(token: str) -> tuple[int, str | None]:
    max_age = int(widget.token_lifetime().total_seconds())
    try:
        payload = tokens.load(TOKEN_PURPOSE, token, max_age)
    except tokens.TokenInvalid as exc:
        raise NotFound("display not found or expired", {"display_token": "invalid"}) from exc
    if not isinstance(payload, dict) or payload.get("p") != access.widget_project().id:
        raise NotFound("display not found", {"display_token": "invalid"})
    return int(payload["d"]), payload.get("l")


@bp.post("/visits")
def visits():
    data = parse(VisitSchema())
    session, project = db(), access.widget_project()
    visitor = _visitor(data)
    result = widget.visit(
        session,
        project,
        visitor.person,
        now=utcnow(),
        locale=data.get("locale") or data.get("browser_locale"),
        survey_id=data.get("survey_id"),
        force=data["force"],
    )
    session.commit()
    body: dict[str, Any] = {
        "show": result.show,
        "reason": result.reason,
        "retry_after": result.retry_after,
        "identified": visitor.identified,
        "locale": result.locale,
    }
    if not visitor.verified:
        body["identity"] = "unverified"
    if result.show:
        body["display_token"] = tokens.sign(
            TOKEN_PURPOSE, {"d": result.display_id, "p": project.id, "l": result.locale}
        )
        body["survey"] = {
            "id": result.survey.id,
            "question": result.question,
            "product_name": result.survey.product_name,
        }
    return body


@bp.post("/responses")
def responses():
    data = parse(AnswerSchema())
    display_id, locale = _display_of(data["display_token"])
    result = widget.answer(
        db(),
        access.widget_project().id,
        display_id,
        score=data.get("score"),
        comment=data.get("comment"),
        locale=locale,
        now=utcnow(),
    )
    db().commit()
    return {
        "response_id": result.response.id,
        "score": result.response.score,
        "segment": result.segment,
        "followup": result.followup,
    }


@bp.post("/dismissals")
def dismissals():
    data = parse(DisplayTokenSchema())
    display_id, _ = _display_of(data["display_token"])
    widget.dismiss(db(), access.widget_project().id, display_id, now=utcnow())
    db().commit()
    return {"dismissed": True}


@bp.post("/feedback")
def feedback():
    data = parse(FeedbackSchema())
    visitor = _visitor(data)
    response = widget.feedback(
        db(),
        access.widget_project().id,
        visitor.person,
        comment=data["comment"],
        category=data.get("category"),
        page_url=data.get("page_url"),
        locale=visitor.person.locale or data.get("locale"),
        now=utcnow(),
    )
    db().commit()
    return {"response_id": response.id}, 201
