"""Triage on responses: tags, notes, follow-ups and the project's follow-up settings."""

from __future__ import annotations

from flask import request

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.schemas.triage import (
    FOLLOW_UP_DESCRIPTION,
    RECOVERY_DESCRIPTION,
    FollowUpPatchSchema,
    FollowUpSchema,
    FollowUpSettingsSchema,
    NoteCreateSchema,
    NoteDeleteArgs,
    NoteListSchema,
    NoteSchema,
    RecoveryArgs,
    RecoverySchema,
    ResponseTagsSchema,
    TagListSchema,
    TagPatchSchema,
    TagSchema,
)
from surveys.answers import get_response
from surveys.clock import utcnow
from surveys.loop import recovery, triage, triage_followup

NOTE_BODY = NoteCreateSchema()

bp = api_blueprint("triage", __name__, "Triage: tags, notes and follow-ups on responses.")


@bp.route("/tags", methods=["GET"])
@bp.response(200, TagListSchema)
def list_tags():
    """The project's tags, by name, with how many responses carry each."""
    return {"items": triage.list_tags(db(), current_project().id)}


@bp.route("/tags", methods=["POST"])
@bp.arguments(TagSchema)
@bp.response(201, TagSchema)
def create_tag(data):
    """Add a tag to the project's list (names are unique, ignoring case)."""
    tag = triage.create_tag(db(), current_project().id, data["name"], utcnow())
    db().commit()
    return tag


@bp.route("/tags/<int:tag_id>", methods=["GET"])
@bp.response(200, TagSchema)
def read_tag(tag_id):
    """One tag."""
    session, project_id = db(), current_project().id
    tag = triage.get_tag(session, project_id, tag_id)
    return next(t for t in triage.list_tags(session, project_id) if t.id == tag.id)


@bp.route("/tags/<int:tag_id>", methods=["PATCH"])
@bp.arguments(TagPatchSchema)
@bp.response(200, TagSchema)
def rename_tag(data, tag_id):
    """Rename a tag; the responses carrying it keep it."""
    tag = triage.rename_tag(db(), current_project().id, tag_id, data.get("name"))
    db().commit()
    return tag


@bp.route("/tags/<int:tag_id>", methods=["DELETE"])
@bp.response(204)
def delete_tag(tag_id):
    """Delete a tag and take it off every response."""
    triage.delete_tag(db(), current_project().id, tag_id)
    db().commit()


@bp.route("/responses/<int:response_id>/tags/<int:tag_id>", methods=["PUT"])
@bp.response(200, ResponseTagsSchema)
def tag_response(response_id, tag_id):
    """Put a tag on a response (idempotent); answers the response's tags."""
    tags = triage.tag_response(db(), current_project().id, response_id, tag_id, utcnow())
    db().commit()
    return {"response_id": response_id, "tags": tags}


@bp.route("/responses/<int:response_id>/tags/<int:tag_id>", methods=["DELETE"])
@bp.response(204)
def untag_response(response_id, tag_id):
    """Take a tag off a response."""
    triage.untag_response(db(), current_project().id, response_id, tag_id)
    db().commit()


@bp.route("/responses/<int:response_id>/notes", methods=["GET"])
@bp.response(200, NoteListSchema)
def list_notes(response_id):
    """A response's internal notes, oldest first."""
    return {"items": triage.list_notes(db(), current_project().id, response_id)}


@bp.route("/responses/<int:response_id>/notes", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": NOTE_BODY}}})
@bp.alt_response(422, description="A missing or invalid field, on one of the project's responses.")
@bp.response(201, NoteSchema)
def add_note(response_id):
    """Add an internal note, written by a member of the project (`author_email`).

    Another project's response (or none) is 404 whatever the body; the body is read after
    that, so a bad body on one of the project's own responses is 422."""
    session, project_id = db(), current_project().id
    get_response(session, project_id, response_id)
    data = bp.ARGUMENTS_PARSER.parse(NOTE_BODY, request, location="json")
    note = triage.add_note(
        session,
        project_id,
        response_id,
        data["text"],
        utcnow(),
        author_email=data["author_email"],
    )
    session.commit()
    return note


@bp.route("/notes/<int:note_id>", methods=["DELETE"])
@bp.arguments(NoteDeleteArgs, location="query")
@bp.response(204)
def delete_note(args, note_id):
    """Delete a note; only its author may (`author_email`), anyone else gets 403."""
    session = db()
    triage.delete_note(
        session, current_project().id, note_id, author_email=args.get("author_email")
    )
    session.commit()


@bp.route("/responses/<int:response_id>/follow-up", methods=["GET"])
@bp.response(200, FollowUpSchema)
@bp.doc(description=FOLLOW_UP_DESCRIPTION)
def read_follow_up(response_id):
    """The response's follow-up (404 when it has none)."""
    return triage_followup.get_follow_up(db(), current_project().id, response_id, utcnow())


@bp.route("/responses/<int:response_id>/follow-up", methods=["PATCH"])
@bp.arguments(FollowUpPatchSchema)
@bp.response(200, FollowUpSchema)
@bp.doc(description=FOLLOW_UP_DESCRIPTION)
def patch_follow_up(data, response_id):
    """Open or change the response's follow-up: status, reason, owner, due time."""
    session, project_id = db(), current_project().id
    changes = {k: data[k] for k in ("status", "reason") if k in data}
    if "owner_email" in data:
        email = data["owner_email"]
        changes["owner_id"] = (
            triage.member_by_email(session, project_id, email, "owner_email").id if email else None
        )
    if "due_at" in data:
        changes["due"] = data["due_at"]
    found = triage_followup.change_follow_up(
        session, project_id, response_id, now=utcnow(), **changes
    )
    session.commit()
    return found


@bp.route("/follow-up-settings", methods=["GET"])
@bp.response(200, FollowUpSettingsSchema)
def read_settings():
    """Whether follow-up is on, its SLA hours per segment and its owner rule."""
    return triage_followup.get_settings(db(), current_project().id)


@bp.route("/follow-up-settings", methods=["PATCH"])
@bp.arguments(FollowUpSettingsSchema)
@bp.response(200, FollowUpSettingsSchema)
def patch_settings(data):
    """Turn follow-up on or off, set SLA hours per segment and the owner rule."""
    settings = triage_followup.update_settings(db(), current_project().id, data, utcnow())
    db().commit()
    return settings


@bp.route("/metrics/recovery", methods=["GET"])
@bp.arguments(RecoveryArgs, location="query")
@bp.response(200, RecoverySchema)
@bp.doc(description=RECOVERY_DESCRIPTION)
def read_recovery(args):
    """Of last period's detractors, how many followed up and not answered again, and moved."""
    return recovery.recovery(
        db(), current_project(), args["survey_id"], args["period"], args.get("from_"), utcnow()
    )
