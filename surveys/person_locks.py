"""Writers racing on one person: the person row locked first, and rows deleted meanwhile as
NotFound.

Erasure deletes a person's answers, their period rows and theme assignments; answering,
rescoring and excluding write those same rows and point at the person. On PostgreSQL, writers
that took those rows in different orders deadlocked, and an answer racing an erasure pointed
at a person deleted meanwhile. So every such writer locks the person row before anything
else: erasure `FOR UPDATE`, which waits for the writers already holding it and makes later
ones wait until it is done; the others `FOR KEY SHARE`, which only erasure conflicts with.
SQLite runs one writer at a time and has no row locks (the statements below read plainly
there): a row deleted between a request's read and its write shows up instead as a
foreign-key failure or an UPDATE that matched nothing, which `deleted_meanwhile` turns into
NotFound.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from surveys.database.errors import is_foreign_key_violation
from surveys.errors import DomainError, NotFound, PersonErased
from surveys.models import Person


@contextmanager
def deleted_meanwhile(message: str, error: type[DomainError] = NotFound) -> Iterator[None]:
    """Writes to rows a concurrent erasure may have removed: an UPDATE that matched nothing
    or a reference to a row gone becomes `error` (NotFound unless told otherwise)."""
    try:
        yield
    except StaleDataError as exc:
        raise error(message) from exc
    except IntegrityError as exc:
        if not is_foreign_key_violation(exc):
            raise
        raise error(message) from exc


def share_person(session: Session, person_id: int) -> None:
    """Hold the person for a write that points at them; PersonErased when they are gone."""
    held = session.scalar(
        select(Person.id).where(Person.id == person_id).with_for_update(read=True, key_share=True)
    )
    if held is None:
        raise PersonErased(f"person {person_id} not found")


def lock_person_for_erasure(
    session: Session, project_id: int, person_id: int, *, now: datetime
) -> None:
    """Hold the person against every other writer until the erasure commits."""
    mine = (Person.id == person_id, Person.project_id == project_id)
    session.scalar(select(Person.id).where(*mine).with_for_update())
    # The lock above is PostgreSQL's. On SQLite this write is what begins the transaction and
    # takes the database's write lock, so that every read of the erasure sees rows no other
    # writer can change before it commits.
    touched = session.execute(
        update(Person)
        .where(*mine)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:
        raise NotFound(f"person {person_id} not found")
