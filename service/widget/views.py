"""`/w/v1/*`: what widget.js calls with the publishable key. Views only translate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from service.db import db
from service.errors import error_response
from service.widget import access
from service.widget.bodies import BadBody, BodyLoader, parse
from service.widget.display_tokens import InvalidToken, display_tokens
from service.widget.schemas import AnswerSchema, DisplayTokenSchema, FeedbackSchema, VisitSchema
from surveys.clock import utcnow
from surveys.errors import NotFound
from surveys.keys import identity_secret
from surveys.widget import visits as widget

bp = Blueprint("widget", __name__, url_prefix="/w/v1")
bp.before_request(access.authenticate)
bp.after_request(access.add_cors_headers)


# Prepared once: see `service.widget.bodies`.
VISIT, ANSWER = BodyLoader(VisitSchema()), BodyLoader(AnswerSchema())
DISPLAY_TOKEN, FEEDBACK = BodyLoader(DisplayTokenSchema()), BodyLoader(FeedbackSchema())


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


def _identity_secret(project: widget.WidgetProject, identity: widget.Identity) -> str:
    # Read only when there is a hash to check or a project that requires one: other visits
    # skip deriving it.
    if not (identity.user_hash or project.require_identity_verification):
        return ""
    return identity_secret(current_app.config["SECRET_KEY"], project.identity_salt)


def _visitor(data: dict[str, Any]) -> widget.Visitor:
    project, identity = access.widget_project(), _identity(data)
    return widget.resolve_visitor(
        db(), project, identity, identity_secret=_identity_secret(project, identity)
    )


def _display_of(token: str) -> tuple[int, str | None]:
    try:
        return display_tokens().load(token, access.widget_project().id)
    except InvalidToken as exc:
        raise NotFound("display not found or expired", {"display_token": "invalid"}) from exc


@bp.post("/visits")
def visits():
    data = parse(VISIT)
    session, project, identity = db(), access.widget_project(), _identity(data)
    result = widget.visit(
        session,
        project,
        identity,
        identity_secret=_identity_secret(project, identity),
        now=utcnow(),
        locale=data.get("locale") or data.get("browser_locale"),
        survey_id=data.get("survey_id"),
        force=data["force"],
    )
    # Most visits repeat the last one and write nothing: then there is nothing to commit.
    if session.in_transaction():
        session.commit()
    body: dict[str, Any] = {
        "show": result.show,
        "reason": result.reason,
        "retry_after": result.retry_after,
        "identified": result.identified,
        "locale": result.locale,
    }
    if not result.verified:
        body["identity"] = "unverified"
    if result.show:
        body["display_token"] = display_tokens().sign(
            project_id=project.id, display_id=result.display_id, locale=result.locale
        )
        body["survey"] = {
            "id": result.survey_id,
            "question": result.question,
            "product_name": result.product_name,
        }
    return body


@bp.post("/responses")
def responses():
    data = parse(ANSWER)
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
    data = parse(DISPLAY_TOKEN)
    display_id, _ = _display_of(data["display_token"])
    widget.dismiss(db(), access.widget_project().id, display_id, now=utcnow())
    db().commit()
    return {"dismissed": True}


@bp.post("/feedback")
def feedback():
    data = parse(FEEDBACK)
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
