"""Prepared statements share one cursor per PostgreSQL connection (`prepared._cursor`), on
the threads' kept read connections and on pooled ones alike: each statement still reads what
its own run returns, a failed statement leaves the cursor usable once its transaction is
rolled back, and a replaced connection brings a cursor of its own. SQLite keeps none."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Integer, String, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from service.db import db
from surveys.database.prepared import KEPT_CURSOR_INFO, PreparedSelect, PreparedWrite
from surveys.models import Person

PEOPLE = Person.__table__
NOW = datetime(2026, 12, 1, 12, 0)

NAMES = PreparedSelect(
    select(PEOPLE.c.external_id)
    .where(PEOPLE.c.project_id == bindparam("project_id", type_=Integer()))
    .order_by(PEOPLE.c.external_id)
)
ADD = PreparedWrite(
    insert(PEOPLE).returning(PEOPLE.c.id),
    ["project_id", "external_id", "properties", "added_at", "updated_at", "anonymous", "trusted"],
)
NAMED = PreparedSelect(
    select(PEOPLE.c.id).where(PEOPLE.c.external_id == bindparam("external_id", type_=String()))
)


def _add(session, project_id: int, external_id: str) -> int:
    values = {
        "project_id": project_id,
        "external_id": external_id,
        "properties": {},
        "added_at": NOW,
        "updated_at": NOW,
        "anonymous": False,
        "trusted": True,
    }
    (person_id,) = ADD.returning(session, values)
    return person_id


def _names(session, project_id: int) -> list[str]:
    return [row.external_id for row in NAMES.rows(session, {"project_id": project_id})]


def test_a_pooled_connection_runs_every_prepared_statement_on_one_cursor(app, project):
    with app.app_context():
        session = db()
        pooled = session.connection().connection  # begins the session's transaction
        postgresql = session.get_bind().dialect.name == "postgresql"
        first = _add(session, project.id, "u-1")
        kept = pooled.info.get(KEPT_CURSOR_INFO)
        assert (kept is not None) == postgresql
        # Each statement reads its own run's result, writes of the transaction included.
        assert _names(session, project.id) == ["u-1"]
        second = _add(session, project.id, "u-2")
        assert second != first
        assert _names(session, project.id) == ["u-1", "u-2"]
        assert [row.id for row in NAMED.rows(session, {"external_id": "u-2"})] == [second]
        assert pooled.info.get(KEPT_CURSOR_INFO) is kept
        session.commit()


def test_the_threads_read_connection_keeps_its_cursor_until_it_is_replaced(app, project):
    with app.app_context():
        session = db()
        _add(session, project.id, "u-1")
        session.commit()
        reads = app.extensions["flywheel.caches"]["read_connections"]
        postgresql = session.get_bind().dialect.name == "postgresql"

        assert _names(session, project.id) == ["u-1"]  # outside any transaction
        assert not session.in_transaction()
        kept = reads.info.get(KEPT_CURSOR_INFO)
        assert (kept is not None) == postgresql
        assert _names(session, project.id) == ["u-1"]
        assert reads.info.get(KEPT_CURSOR_INFO) is kept

        reads.clear()  # a new connection, and with it a new cursor
        assert _names(session, project.id) == ["u-1"]
        if postgresql:
            assert reads.info[KEPT_CURSOR_INFO] not in (None, kept)


def test_a_failed_statement_leaves_the_kept_cursor_usable(app, project):
    with app.app_context():
        session = db()
        pooled = session.connection().connection
        _add(session, project.id, "u-1")
        session.commit()

        session.connection()
        with pytest.raises(IntegrityError):
            _add(session, project.id, "u-1")  # the same external_id: a unique violation
        session.rollback()
        assert _names(session, project.id) == ["u-1"]
        session.connection()  # the same pooled connection, its cursor as it was
        assert session.connection().connection.info is pooled.info
        _add(session, project.id, "u-2")
        assert _names(session, project.id) == ["u-1", "u-2"]
        session.commit()
