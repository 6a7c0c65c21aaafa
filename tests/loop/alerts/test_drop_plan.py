"""The promoter-to-detractor check reads the people's counted answers of the quarter before,
planned by SQLite itself (which the service never analyses): by survey, unit and person
along an index, never a walk of every project's period answers on each alert pass."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from surveys.loop import alerts
from tests.plans import sqlite_plans


def test_the_quarter_before_is_sought_by_survey_and_person(tmp_path, sqlite_template):
    when = datetime(2026, 11, 3, 10)
    rows = [
        SimpleNamespace(id=n, survey_id=1 + n % 2, person_id=10 + n, created_at=when)
        for n in range(1, 4)
    ]
    project = SimpleNamespace(time_zone="UTC")

    def drops(session) -> None:
        assert alerts._drops(session, project, rows, when) == []

    (plan,) = sqlite_plans(
        sqlite_template, tmp_path, drops, lambda sql: "FROM period_answers" in sql
    )
    assert len(plan) == 1 and plan[0].startswith("SEARCH period_answers USING"), plan
    assert "survey_id=? AND unit=? AND person_id=?" in plan[0], plan
