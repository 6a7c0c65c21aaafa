"""Erasing a person deletes their period answers by survey, unit and person, planned by SQLite
itself (which the service never analyses): by person alone the DELETE walked every
project's period answers."""

from __future__ import annotations

from surveys import period_answers
from tests.plans import sqlite_plans


def test_a_persons_period_answers_are_sought_for_their_erasure(tmp_path, sqlite_template):
    (plan,) = sqlite_plans(
        sqlite_template,
        tmp_path,
        lambda session: period_answers.forget_person(session, 1, 7),
        lambda sql: sql.startswith("DELETE"),
    )
    assert plan[0] == (
        "SEARCH period_answers USING COVERING INDEX ix_period_answers_person"
        " (survey_id=? AND unit=? AND person_id=?)"
    ), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan
