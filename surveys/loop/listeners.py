"""Which event types a project's listeners want: kept on the project row, read for free.

`projects.events_wanted` is what the core checks before it appends an event. It is worked
out again from the listeners whenever one changes (created, edited, paused, deleted,
disabled). Another kind of listener adds its query to `_wanted_types`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.events import EVENT_TYPES
from surveys.models import Project, Webhook


def _wanted_types(session: Session, project_id: int) -> set[str]:
    wanted: set[str] = set()
    for types in session.scalars(
        select(Webhook.events).where(Webhook.project_id == project_id, Webhook.active.is_(True))
    ):
        wanted.update(types or ())
    return wanted


def refresh(session: Session, project_id: int) -> list[str]:
    """Store the project's wanted event types (in EVENT_TYPES order); returns them.

    The project row is locked first (FOR NO KEY UPDATE on PostgreSQL, which answers' foreign
    keys do not wait for), so two listeners changing at once cannot each store a set that
    misses the other's change.
    """
    session.flush()
    session.execute(
        select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
    )
    wanted = _wanted_types(session, project_id)
    ordered = [t for t in EVENT_TYPES if t in wanted]
    project = session.get(Project, project_id)
    if project is not None:
        project.events_wanted = ordered
        session.flush()
    return ordered
