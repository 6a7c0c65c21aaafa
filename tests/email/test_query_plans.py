"""Email statements that run per batch or per project, planned by SQLite itself (which the
service never analyses): each seeks an index instead of reading a whole table."""

from __future__ import annotations

from datetime import datetime

from surveys.email import delivery
from surveys.email.schedule_facts import last_contacts
from tests.plans import sqlite_plans


def test_the_send_cap_counts_the_last_minute_by_its_index(tmp_path, sqlite_template):
    """Once per dispatched batch: by the `sent_at` index, not every invitation ever made."""
    (plan,) = sqlite_plans(
        sqlite_template,
        tmp_path,
        lambda session: delivery.sent_since(session, datetime(2026, 1, 1)),
        lambda sql: "count(*)" in sql,
    )
    assert plan == ["SEARCH invitations USING COVERING INDEX ix_invitations_sent (sent_at>?)"]


def test_a_projects_last_displays_are_sought_through_its_people(tmp_path, sqlite_template):
    """Once per project in a scheduling pass: the project's people, then each one's displays
    by the (person, time) index; filtering displays by project walked every project's."""
    (plan,) = sqlite_plans(
        sqlite_template,
        tmp_path,
        lambda session: last_contacts(session, 1),
        lambda sql: "FROM displays" in sql,
    )
    assert plan[0].startswith("SEARCH people USING") and "(project_id=?)" in plan[0], plan
    assert plan[1] == "SEARCH displays USING COVERING INDEX ix_displays_person (person_id=?)"
    assert not [step for step in plan if step.startswith("SCAN")], plan
