"""The promoter-to-detractor check reads the people's counted answers of the quarter before,
planned by SQLite itself (which the service never analyses): by survey, unit and person
along an index, never a walk of every project's period answers on each alert pass."""

from __future__ import annotations

import shutil
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy.orm import Session

from service.db import make_engine
from surveys.loop import alerts


def test_the_quarter_before_is_sought_by_survey_and_person(tmp_path, sqlite_template):
    path = tmp_path / "plan.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    when = datetime(2026, 11, 3, 10)
    rows = [
        SimpleNamespace(id=n, survey_id=1 + n % 2, person_id=10 + n, created_at=when)
        for n in range(1, 4)
    ]
    traced: list[str] = []
    try:
        with Session(engine) as session:
            session.connection().connection.driver_connection.set_trace_callback(traced.append)
            project = SimpleNamespace(time_zone="UTC")
            assert alerts._drops(session, project, rows, when) == []
            (read,) = [sql for sql in traced if "FROM period_answers" in sql]
            plan = [
                row[3] for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + read)
            ]
    finally:
        engine.dispose()
    assert len(plan) == 1 and plan[0].startswith("SEARCH period_answers USING"), plan
    assert "survey_id=? AND unit=? AND person_id=?" in plan[0], plan
