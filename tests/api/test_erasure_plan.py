"""Erasing a person deletes their period answers by survey, unit and person, planned by SQLite
itself (which the service never analyses): by person alone the DELETE walked every
project's period answers."""

from __future__ import annotations

import shutil

from sqlalchemy.orm import Session

from service.db import make_engine
from surveys import period_answers


def test_a_persons_period_answers_are_sought_for_their_erasure(tmp_path, sqlite_template):
    path = tmp_path / "plan.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    traced: list[str] = []
    try:
        with Session(engine) as session:
            session.connection().connection.driver_connection.set_trace_callback(traced.append)
            period_answers.forget_person(session, 1, 7)
            (statement,) = [sql for sql in traced if sql.startswith("DELETE")]
            plan = [
                row[3]
                for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement)
            ]
            session.rollback()
    finally:
        engine.dispose()
    assert plan[0] == (
        "SEARCH period_answers USING COVERING INDEX ix_period_answers_person"
        " (survey_id=? AND unit=? AND person_id=?)"
    ), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan
