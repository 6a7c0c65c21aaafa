"""Unsubscribes: the people who get no more email from any survey of their project."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys import events
from surveys.database.paging import Page, keyset_page
from surveys.errors import Invalid, NotFound
from surveys.models import Invitation, Person
from surveys.people import find_person, normalise_email


def unsubscribe(session: Session, person: Person, now: datetime) -> Person:
    """Idempotent: the first time counts. Pending invitations are cancelled at once."""
    if person.unsubscribed_at is None:
        person.unsubscribed_at = now
        person.updated_at = now
        events.record(session, person.project_id, events.UNSUBSCRIBE_CREATED, person.id, now)
    session.execute(
        update(Invitation)
        .where(Invitation.person_id == person.id, Invitation.status == "scheduled")
        .values(status="cancelled", error="unsubscribed", updated_at=now)
    )
    session.flush()
    return person


def add_unsubscribe(
    session: Session, project_id: int, data: dict[str, Any], now: datetime
) -> tuple[Person, bool]:
    """Unsubscribe by `person_id`, `external_id` or `email`; returns (person, created).

    An address nobody has yet is stored as a person, already unsubscribed, so that adding
    them later (people are matched by email) keeps them unsubscribed.
    """
    if data.get("person_id") is None and not data.get("external_id") and not data.get("email"):
        raise Invalid(
            "give person_id, external_id or email", {"email": ["one identifier is required"]}
        )
    lookup = {"id": data.get("person_id"), **{k: data.get(k) for k in ("external_id", "email")}}
    person = find_person(session, project_id, lookup)
    created = False
    if person is None:
        if not data.get("email"):
            raise NotFound("person not found", {k: v for k, v in lookup.items() if v})
        person = Person(
            project_id=project_id,
            email=normalise_email(data["email"]),
            external_id=data.get("external_id"),
            properties={},
            added_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
        created = True
    return unsubscribe(session, person, now), created


def list_unsubscribed(
    session: Session, project_id: int, *, limit: int, after: int | None
) -> Page[Person]:
    stmt = select(Person).where(
        Person.project_id == project_id, Person.unsubscribed_at.is_not(None)
    )
    return keyset_page(session, stmt, Person.id, limit=limit, after=after)
