"""Triage on responses: the project's tag list, tags on responses, and internal notes.

Notes and follow-up owners name a team member; the API names them by email, the team app by
the signed-in user, and both reach `member_by_email` or pass a user id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveys.accounts.users import normalise_email
from surveys.answers import get_response
from surveys.database.inserts import insert_rows_or_ignore
from surveys.errors import Conflict, Forbidden, Invalid, NotFound
from surveys.models import Membership, Note, ResponseTag, Tag, User

MAX_TAG_NAME = 64
MAX_NOTE = 10_000


def member_by_email(session: Session, project_id: int, email: str, field: str) -> User:
    """The project member with this email; anyone else is the caller's mistake (422)."""
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id, User.email == normalise_email(email))
    )
    if user is None:
        raise Invalid(f"{email!r} is not a member of this project", {field: ["not a member"]})
    return user


def is_member(session: Session, project_id: int, user_id: int) -> bool:
    found = session.scalar(
        select(Membership.id).where(
            Membership.project_id == project_id, Membership.user_id == user_id
        )
    )
    return found is not None


# Tags


def _tag_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_TAG_NAME:
        raise Invalid("a tag name has 1 to 64 characters", {"name": ["1 to 64 characters"]})
    return clean


def _check_free(session: Session, project_id: int, name: str, but: int | None = None) -> None:
    taken = session.scalar(
        select(Tag.id).where(
            Tag.project_id == project_id, func.lower(Tag.name) == name.lower(), Tag.id != (but or 0)
        )
    )
    if taken is not None:
        raise Conflict(f"a tag named {name!r} exists", {"name": ["already taken"]})


def list_tags(session: Session, project_id: int) -> list[Tag]:
    """The project's tags by name, each with `uses`: how many responses carry it."""
    uses = (
        select(ResponseTag.tag_id, func.count().label("n"))
        .join(Tag, Tag.id == ResponseTag.tag_id)
        .where(Tag.project_id == project_id)
        .group_by(ResponseTag.tag_id)
        .subquery()
    )
    rows = session.execute(
        select(Tag, func.coalesce(uses.c.n, 0))
        .outerjoin(uses, uses.c.tag_id == Tag.id)
        .where(Tag.project_id == project_id)
        .order_by(func.lower(Tag.name), Tag.id)
    ).all()
    out = []
    for tag, n in rows:
        tag.uses = int(n)
        out.append(tag)
    return out


def get_tag(session: Session, project_id: int, tag_id: int) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None or tag.project_id != project_id:
        raise NotFound(f"tag {tag_id} not found")
    return tag


def create_tag(session: Session, project_id: int, name: str, now: datetime) -> Tag:
    name = _tag_name(name)
    _check_free(session, project_id, name)
    tag = Tag(project_id=project_id, name=name, created_at=now)
    session.add(tag)
    session.flush()
    tag.uses = 0
    return tag


def rename_tag(session: Session, project_id: int, tag_id: int, name: str | None) -> Tag:
    tag = get_tag(session, project_id, tag_id)
    if name is not None:
        name = _tag_name(name)
        _check_free(session, project_id, name, but=tag.id)
        tag.name = name
        session.flush()
    tag.uses = int(session.scalar(select(func.count()).where(ResponseTag.tag_id == tag.id)) or 0)
    return tag


def delete_tag(session: Session, project_id: int, tag_id: int) -> None:
    """Deletes the tag and takes it off every response."""
    tag = get_tag(session, project_id, tag_id)
    session.execute(delete(ResponseTag).where(ResponseTag.tag_id == tag.id))
    session.delete(tag)
    session.flush()


def tag_response(
    session: Session, project_id: int, response_id: int, tag_id: int, now: datetime
) -> list[Tag]:
    """Put the tag on the response (again: nothing changes); answers the response's tags."""
    get_response(session, project_id, response_id)
    get_tag(session, project_id, tag_id)
    insert_rows_or_ignore(
        session, ResponseTag, [{"response_id": response_id, "tag_id": tag_id, "created_at": now}]
    )
    return tags_of(session, [response_id]).get(response_id, [])


def untag_response(session: Session, project_id: int, response_id: int, tag_id: int) -> None:
    get_response(session, project_id, response_id)
    get_tag(session, project_id, tag_id)
    session.execute(
        delete(ResponseTag).where(
            ResponseTag.response_id == response_id, ResponseTag.tag_id == tag_id
        )
    )


def tags_of(session: Session, response_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """The tags of each response, by name, in one query for a page of responses."""
    ids = list(response_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ResponseTag.response_id, Tag)
        .join(Tag, Tag.id == ResponseTag.tag_id)
        .where(ResponseTag.response_id.in_(ids))
        .order_by(func.lower(Tag.name), Tag.id)
    ).all()
    out: dict[int, list[Tag]] = {}
    for response_id, tag in rows:
        out.setdefault(response_id, []).append(tag)
    return out


# Notes


@dataclass(frozen=True)
class NoteView:
    id: int
    response_id: int
    author_id: int | None
    author_email: str | None
    text: str
    created_at: datetime


def _view(note: Note, email: str | None) -> NoteView:
    return NoteView(note.id, note.response_id, note.author_id, email, note.text, note.created_at)


def list_notes(session: Session, project_id: int, response_id: int) -> list[NoteView]:
    """A response's notes, oldest first, each with its author's email."""
    get_response(session, project_id, response_id)
    return notes_of(session, [response_id]).get(response_id, [])


def notes_of(session: Session, response_ids: Iterable[int]) -> dict[int, list[NoteView]]:
    ids = list(response_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Note, User.email)
        .outerjoin(User, User.id == Note.author_id)
        .where(Note.response_id.in_(ids))
        .order_by(Note.response_id, Note.id)
    ).all()
    out: dict[int, list[NoteView]] = {}
    for note, email in rows:
        out.setdefault(note.response_id, []).append(_view(note, email))
    return out


def add_note(
    session: Session,
    project_id: int,
    response_id: int,
    text: str | None,
    now: datetime,
    *,
    author: User | None = None,
    author_email: str | None = None,
) -> NoteView:
    """A note by a member of the project: the signed-in `author` (the team app has checked
    the membership) or, through the API, the member named by `author_email`."""
    get_response(session, project_id, response_id)
    if author is None:
        if not author_email:
            raise Invalid("name the note's author", {"author_email": ["required"]})
        author = member_by_email(session, project_id, author_email, "author_email")
    clean = (text or "").strip()
    if not clean or len(clean) > MAX_NOTE:
        raise Invalid("a note has 1 to 10000 characters", {"text": ["1 to 10000 characters"]})
    note = Note(
        project_id=project_id,
        response_id=response_id,
        author_id=author.id,
        text=clean,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return _view(note, author.email)


def delete_note(
    session: Session,
    project_id: int,
    note_id: int,
    *,
    user_id: int | None = None,
    author_email: str | None = None,
) -> None:
    """Only the note's author deletes it: a note is their word on the record. The author is
    the signed-in user (`user_id`) or, through the API, the member named by `author_email`;
    the note is looked up first, so another project's note is a 404 whoever asks."""
    note = session.get(Note, note_id)
    if note is None or note.project_id != project_id:
        raise NotFound(f"note {note_id} not found")
    if user_id is None:
        if not author_email:
            raise Invalid("name the note's author", {"author_email": ["required"]})
        user_id = member_by_email(session, project_id, author_email, "author_email").id
    if note.author_id != user_id:
        raise Forbidden("only the note's author may delete it")
    session.delete(note)
    session.flush()
