"""People: upsert, batch upsert, list, read, change and erase."""

from __future__ import annotations

from flask import current_app, request
from marshmallow import ValidationError

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.people import (
    PeopleBatchResultSchema,
    PeopleBatchSchema,
    PeopleListArgs,
    PersonCreateSchema,
    PersonInSchema,
    PersonSchema,
)
from surveys import erasure, people
from surveys.clock import utcnow

bp = api_blueprint("people", __name__, "People who can be surveyed.")
_row_schema = PersonCreateSchema()


@bp.before_request
def _batch_limit():
    # Flask 3.1 lets one endpoint raise the global body limit: only the batch needs more.
    if request.endpoint == "people.batch_people":
        request.max_content_length = current_app.config["FLYWHEEL"].max_batch_body_bytes


@bp.route("/people", methods=["POST"])
@bp.arguments(PersonCreateSchema)
@bp.response(201, PersonSchema)
@bp.alt_response(200, schema=PersonSchema, description="An existing person was updated.")
def upsert_person(data):
    """Create or update a person.

    Matched by `external_id`, else by `email`. `properties` are merged into the stored ones.
    Answers 201 when created, 200 when updated.
    """
    person, created = people.upsert_person(db(), current_project().id, data, trusted=True)
    db().commit()
    return person, 201 if created else 200


@bp.route("/people/batch", methods=["POST"])
@bp.arguments(PeopleBatchSchema)
@bp.response(200, PeopleBatchResultSchema)
def batch_people(data):
    """Upsert up to 10,000 people in one call.

    Each row is validated on its own: bad rows are listed in `errors` with their index and
    the others are stored.
    """
    valid, errors = [], []
    for index, row in enumerate(data["people"]):
        try:
            valid.append((index, _row_schema.load(row)))
        except ValidationError as exc:
            errors.append({"index": index, "errors": exc.messages})
    result = people.upsert_people(db(), current_project().id, valid)
    db().commit()
    errors.extend(result.errors)
    errors.sort(key=lambda e: e["index"])
    return {
        "created": result.created,
        "updated": result.updated,
        "failed": len(errors),
        "errors": errors,
    }


@bp.route("/people", methods=["GET"])
@bp.arguments(PeopleListArgs, location="query")
@bp.response(200, page_schema(PersonSchema, "PeoplePage"))
def list_people(args):
    """List people, oldest first, with cursor pagination."""
    page = people.list_people(
        db(),
        current_project().id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
        email=args.get("email"),
        external_id=args.get("external_id"),
        updated_since=args.get("updated_since"),
    )
    return page_response(page, PersonSchema())


@bp.route("/people/<int:person_id>", methods=["GET"])
@bp.response(200, PersonSchema)
def read_person(person_id):
    """Read one person."""
    return people.get_person(db(), current_project().id, person_id)


@bp.route("/people/<int:person_id>", methods=["PATCH"])
@bp.arguments(PersonInSchema(partial=True))
@bp.response(200, PersonSchema)
def patch_person(data, person_id):
    """Change a person; `properties` are merged."""
    person = people.update_person(db(), current_project().id, person_id, data)
    db().commit()
    return person


@bp.route("/people/<int:person_id>", methods=["DELETE"])
@bp.response(204)
def delete_person(person_id):
    """Erase a person and everything of theirs.

    Their responses, invitations and displays are deleted, their comments' quotes and the
    label terms only they said are taken out of the themes, and saved theme models fitted on
    their comments are dropped (the newest one is queued to be fitted again).
    """
    erasure.erase_person(db(), current_project().id, person_id, now=utcnow())
    db().commit()
