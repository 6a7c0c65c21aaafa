"""Survey responses: record (idempotent), list, read and change."""

from __future__ import annotations

from flask import current_app, jsonify, request
from marshmallow import ValidationError

from service.api.base import api_blueprint
from service.api.queries import response_filters
from service.auth import current_project, current_project_row
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.batch import (
    ResponseBatchResultSchema,
    ResponseBatchSchema,
    RowLoader,
    batch_row,
    invalid_row,
    row_result,
)
from service.schemas.responses import (
    ResponseCreateSchema,
    ResponseListArgs,
    ResponsePatchSchema,
    ResponseSchema,
)
from surveys import answers
from surveys.clock import utcnow
from surveys.imports.batch import record_batch
from surveys.response_context import attach_contexts
from surveys.response_filters import list_responses

bp = api_blueprint("responses", __name__, "Survey responses (answers).")


@bp.before_request
def _batch_limit():
    # Flask 3.1 lets one endpoint raise the global body limit: only the batch needs more.
    if request.endpoint == "responses.record_responses":
        request.max_content_length = current_app.config["FLYWHEEL"].max_batch_body_bytes


@bp.route("/responses", methods=["POST"])
# An instance, not the class: webargs would build the schema (and its nested person schema)
# again on every answer, measured at a tenth of an answer's CPU.
@bp.arguments(ResponseCreateSchema())
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
    # The project as authentication read it: an answer needs no object of the session.
    session, project = db(), current_project_row()
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
    response, _ = answers.record_answer_for(session, project, data["person"], answer, now=utcnow())
    session.commit()
    return response


@bp.route("/responses", methods=["GET"])
@bp.arguments(ResponseListArgs, location="query")
@bp.response(200, page_schema(ResponseSchema, "ResponsePage"))
def list_all(args):
    """List responses, oldest first, with cursor pagination and filters."""
    session, project_id = db(), current_project().id
    page = list_responses(
        session,
        project_id,
        response_filters(args),
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
    )
    attach_contexts(session, project_id, page.items)
    return page_response(page, ResponseSchema())


@bp.route("/responses/<int:response_id>", methods=["GET"])
@bp.response(200, ResponseSchema)
def read_response(response_id):
    """Read one response."""
    session, project_id = db(), current_project().id
    return attach_contexts(
        session, project_id, [answers.get_response(session, project_id, response_id)]
    )[0]


@bp.route("/responses/<int:response_id>", methods=["PATCH"])
@bp.arguments(ResponsePatchSchema)
@bp.response(200, ResponseSchema)
def patch_response(changes, response_id):
    """Change the comment, or exclude the response from every metric."""
    response = answers.update_response(
        db(), current_project().id, response_id, changes, now=utcnow()
    )
    db().commit()
    return attach_contexts(db(), current_project().id, [response])[0]


@bp.route("/responses/batch", methods=["POST"])
@bp.arguments(ResponseBatchSchema)
@bp.response(200, ResponseBatchResultSchema)
def record_responses(data):
    """Record up to 10,000 answers, with their people, in one call.

    Each row is an answer as `POST /responses` takes it, with its own `idempotency_key`;
    a person the batch creates takes the row's `person.name` and `person.properties`. Each
    row is checked on its own: `results` lists every row's `index`, `status` (201 stored,
    200 stored before under the same key, else the error's status), `id` and `error` (the
    error envelope), and the valid rows are stored. A retried batch creates nothing new.
    """
    session, project = db(), current_project()
    rows, invalid, loader = [], [], RowLoader()
    for index, raw in enumerate(data["responses"]):
        try:
            rows.append(batch_row(index, loader.load(raw)))
        except ValidationError as exc:
            invalid.append(invalid_row(index, exc.messages))
    stored = record_batch(session, project.id, rows, now=utcnow())
    session.commit()
    results = sorted([*map(row_result, stored), *invalid], key=lambda r: r["index"])
    created = sum(1 for r in results if r["status"] == 201)
    existing = sum(1 for r in results if r["status"] == 200)
    # Dumped by hand: the schema documents the body, but 10,000 rows through it cost more
    # than storing them.
    return jsonify(
        {
            "created": created,
            "existing": existing,
            "failed": len(results) - created - existing,
            "results": results,
        }
    )
