"""Survey responses: record (idempotent), list, read and change."""

from __future__ import annotations

from flask import request

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.responses import (
    ResponseCreateSchema,
    ResponseListArgs,
    ResponsePatchSchema,
    ResponseSchema,
)
from surveys import answers
from surveys.clock import utcnow
from surveys.response_context import fresh_context, response_contexts
from surveys.response_filters import ResponseFilters, list_responses
from surveys.segments import Segment

bp = api_blueprint("responses", __name__, "Survey responses (answers).")


def attach_contexts(items):
    """Give each response its movement and theme (two queries for a whole page)."""
    contexts = response_contexts(db(), current_project().id, items)
    for item in items:
        item.context = contexts[item.id]
    return items


def filters_from(args: dict) -> ResponseFilters:
    return ResponseFilters(
        survey_id=args.get("survey_id"),
        since=args.get("since"),
        until=args.get("until"),
        segment=Segment(args["segment"]) if args.get("segment") else None,
        person_id=args.get("person_id"),
        channel=args.get("channel"),
        updated_since=args.get("updated_since"),
        text=args.get("q"),
        theme_id=args.get("theme_id"),
    )


@bp.route("/responses", methods=["POST"])
@bp.arguments(ResponseCreateSchema)
@bp.response(201, ResponseSchema)
@bp.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retries with the same key return the first result; nothing is "
            "stored twice.",
        }
    ]
)
def record_response(data):
    """Record an answer from your server or a backfill.

    The person is matched by `id`, `external_id` or `email` and created when new. Answers
    201 with the stored response and its `segment` (promoter 9–10, passive 7–8,
    detractor 0–6).
    """
    session, project = db(), current_project()
    key = (request.headers.get("Idempotency-Key") or "").strip()[:255] or None
    answer = answers.Answer(
        survey_id=data["survey_id"],
        score=data["score"],
        comment=data.get("comment"),
        channel=data["channel"],
        locale=data.get("locale"),
        created_at=data.get("created_at"),
        properties=data.get("properties"),
        idempotency_key=key,
    )
    response, created = answers.record_answer_for(
        session, project.id, data["person"], answer, now=utcnow()
    )
    session.commit()
    if not created:
        return attach_contexts([response])[0]
    response.context = fresh_context(session, response)
    return response


@bp.route("/responses", methods=["GET"])
@bp.arguments(ResponseListArgs, location="query")
@bp.response(200, page_schema(ResponseSchema, "ResponsePage"))
def list_all(args):
    """List responses, oldest first, with cursor pagination and filters."""
    page = list_responses(
        db(),
        current_project().id,
        filters_from(args),
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
    )
    attach_contexts(page.items)
    return page_response(page, ResponseSchema())


@bp.route("/responses/<int:response_id>", methods=["GET"])
@bp.response(200, ResponseSchema)
def read_response(response_id):
    """Read one response."""
    return attach_contexts([answers.get_response(db(), current_project().id, response_id)])[0]


@bp.route("/responses/<int:response_id>", methods=["PATCH"])
@bp.arguments(ResponsePatchSchema)
@bp.response(200, ResponseSchema)
def patch_response(changes, response_id):
    """Change the comment, or exclude the response from every metric."""
    response = answers.update_response(
        db(), current_project().id, response_id, changes, now=utcnow()
    )
    db().commit()
    return attach_contexts([response])[0]
