"""Triage in the team app: tags, notes and follow-ups on the responses feed and person page.

Every member sees them; editors and owners change them (viewers' posts get 403 from the
blueprint's access check). Each form posts here and comes back to the page it was on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, request, url_for

from service.app.shell import bp, team
from service.app.triage_forms import FollowUpForm, NoteForm, TagForm
from service.db import db
from surveys.accounts.roles import Role
from surveys.accounts.users import members
from surveys.clock import utcnow
from surveys.errors import Conflict, Invalid
from surveys.loop import triage, triage_followup
from surveys.loop.triage import NoteView
from surveys.loop.triage_followup import FollowUpView
from surveys.models import SurveyResponse, Tag


@dataclass(frozen=True)
class Triage:
    """What the triage panel of a page of responses shows."""

    tags: dict[int, list[Tag]]
    notes: dict[int, list[NoteView]]
    follow_ups: dict[int, FollowUpView]
    all_tags: list[Tag]
    members: list[tuple[int, str]]
    can_edit: bool
    me: int


def triage_of(project_id: int, responses: list[SurveyResponse]) -> Triage:
    """Tags, notes and follow-ups of the responses on a page, a handful of queries in all."""
    ids = [r.id for r in responses]
    session = db()
    role = team().role
    return Triage(
        tags=triage.tags_of(session, ids),
        notes=triage.notes_of(session, ids),
        follow_ups=triage_followup.follow_ups_of(session, ids, utcnow()),
        all_tags=triage.list_tags(session, project_id),
        members=[(m.user.id, m.user.email) for m in members(session, project_id)],
        can_edit=role is not None and role.at_least(Role.EDITOR),
        me=team().user.id,
    )


def triage_filter_choices(project_id: int) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The feed's triage filters: tag, follow-up status, owner."""
    session = db()
    return [
        ("tag", "Tag", [(str(t.id), t.name) for t in triage.list_tags(session, project_id)]),
        (
            "status",
            "Follow-up",
            [(s, s) for s in triage_followup.STATUSES] + [("none", "no follow-up")],
        ),
        (
            "owner",
            "Owner",
            [(m.user.email, m.user.email) for m in members(session, project_id)],
        ),
    ]


def _back(form: Any, response_id: int | None = None):  # noqa: ANN202
    """Back to the page the form was on (a path in the team app), else the feed."""
    target = form.next.data or ""
    if not target.startswith("/app/") or target.startswith("//") or "\\" in target:
        target = url_for("app.responses")
    anchor = f"#r-{response_id}" if response_id else ""
    return redirect(target.split("#")[0] + anchor)


def _flash_problem(exc: Invalid | Conflict) -> None:
    flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")


@bp.post("/responses/<int:response_id>/tags", endpoint="tag_response")
def tag_response(response_id: int):  # noqa: ANN201
    form = TagForm()
    project_id, now = team().project.id, utcnow()
    try:
        if (form.new_tag.data or "").strip():
            tag_id = triage.create_tag(db(), project_id, form.new_tag.data, now).id
        elif (form.tag.data or "").isdigit():
            tag_id = int(form.tag.data)
        else:
            raise Invalid("choose a tag or name a new one")
        triage.tag_response(db(), project_id, response_id, tag_id, now)
    except (Invalid, Conflict) as exc:
        db().rollback()
        _flash_problem(exc)
        return _back(form, response_id)
    db().commit()
    return _back(form, response_id)


@bp.post("/responses/<int:response_id>/tags/<int:tag_id>/remove", endpoint="untag_response")
def untag_response(response_id: int, tag_id: int):  # noqa: ANN201
    form = TagForm()
    triage.untag_response(db(), team().project.id, response_id, tag_id)
    db().commit()
    return _back(form, response_id)


@bp.post("/responses/<int:response_id>/notes", endpoint="add_note")
def add_note(response_id: int):  # noqa: ANN201
    form = NoteForm()
    try:
        triage.add_note(
            db(), team().project.id, response_id, form.text.data, utcnow(), author=team().user
        )
    except Invalid as exc:
        _flash_problem(exc)
        return _back(form, response_id)
    db().commit()
    return _back(form, response_id)


@bp.post("/notes/<int:note_id>/delete", endpoint="delete_note")
def delete_note(note_id: int):  # noqa: ANN201
    form = NoteForm()
    # Another member's note: Forbidden, which the app's error page shows as 403.
    triage.delete_note(db(), team().project.id, note_id, user_id=team().user.id)
    db().commit()
    return _back(form)


@bp.post("/responses/<int:response_id>/follow-up", endpoint="follow_up")
def follow_up(response_id: int):  # noqa: ANN201
    form = FollowUpForm()
    owner = form.owner.data or ""
    try:
        if not form.validate():
            raise Invalid("choose a status, and keep the reason under 2000 characters")
        triage_followup.change_follow_up(
            db(),
            team().project.id,
            response_id,
            now=utcnow(),
            status=form.status.data,
            reason=form.reason.data or None,
            owner_id=int(owner) if owner.isdigit() else None,
        )
    except Invalid as exc:
        db().rollback()
        _flash_problem(exc)
        return _back(form, response_id)
    db().commit()
    return _back(form, response_id)


def page_path() -> str:
    """The current page with its query, for the forms' `next`."""
    return request.full_path.rstrip("?")
