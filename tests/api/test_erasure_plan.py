"""Erasing a person deletes their period answers through the index on the person (revision
0022), as SQLite itself plans it (the service never analyses): before it, the DELETE walked
every project's period answers."""

from __future__ import annotations

from surveys import period_answers
from tests.plans import sqlite_plans


def test_a_persons_period_answers_are_sought_for_their_erasure(tmp_path, sqlite_template):
    (plan,) = sqlite_plans(
        sqlite_template,
        tmp_path,
        lambda session: period_answers.forget_person(session, 7),
        lambda sql: sql.startswith("DELETE"),
    )
    assert plan[0] == (
        "SEARCH period_answers USING COVERING INDEX ix_period_answers_person_id (person_id=?)"
    ), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan
