"""The event outbox: what changed, written in the transaction of the change, for the loop.

The core and the features append here; `surveys/loop` fans the rows out to webhooks (and
whatever else listens). Nothing is written unless the project's `events_wanted` names the
type, so a project without listeners pays no write, and the check reads the project row that
answering has already loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from surveys.models import Event, Project

RESPONSE_CREATED = "response.created"
RESPONSE_UPDATED = "response.updated"
SEGMENT_CHANGED = "person.segment_changed"
THEME_RUN_COMPLETED = "theme_run.completed"
INVITATION_BOUNCED = "invitation.bounced"
UNSUBSCRIBE_CREATED = "unsubscribe.created"
EVENT_TYPES = (
    RESPONSE_CREATED,
    RESPONSE_UPDATED,
    SEGMENT_CHANGED,
    THEME_RUN_COMPLETED,
    INVITATION_BOUNCED,
    UNSUBSCRIBE_CREATED,
)
_TABLE = Event.__table__


def wanted(session: Session, project_id: int, event_type: str) -> bool:
    """Whether anyone listens to this type in this project; the project row usually sits in
    the session already (the API loaded it to authenticate), so this costs no query."""
    project = session.get(Project, project_id)
    return project is not None and event_type in (project.events_wanted or ())


def append(
    writer: Session | Connection,
    project_id: int,
    event_type: str,
    object_id: int | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """One outbox row, unconditionally: the caller checked `wanted`. A Core INSERT, so a
    writer that holds a plain Connection (the email dispatcher) can use it too."""
    writer.execute(
        insert(_TABLE).values(
            project_id=project_id,
            type=event_type,
            object_id=object_id,
            data=data or {},
            created_at=now,
        )
    )


def record(
    session: Session,
    project_id: int,
    event_type: str,
    object_id: int | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append the event if anyone wants it; returns whether it was written."""
    if not wanted(session, project_id, event_type):
        return False
    append(session, project_id, event_type, object_id, now, data)
    return True


def record_on(
    writer: Session | Connection,
    project_id: int,
    event_type: str,
    object_id: int | None,
    now: datetime,
) -> bool:
    """`record` for a writer without an identity map: reads the project's wanted types."""
    types = writer.execute(
        select(Project.events_wanted).where(Project.id == project_id)
    ).scalar_one_or_none()
    if not types or event_type not in types:
        return False
    append(writer, project_id, event_type, object_id, now)
    return True
