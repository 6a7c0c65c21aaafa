"""The worker's planner-statistics pass: on PostgreSQL it analyses the service's tables that
changed by more than autovacuum's threshold since their last statistics, and then leaves them
alone; on SQLite it does nothing."""

from __future__ import annotations

import time

from sqlalchemy import text

from service.db import db
from service.worker.loop import run_once, worker_passes
from service.worker.statistics_jobs import refresh_statistics
from surveys.database import planner_statistics
from surveys.models import Base
from tests.widget.conftest import Widget

VISITORS = 60  # more than autovacuum's 50-row threshold for a table never analysed


def _known_rows(table: str) -> float:
    return db().scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
    )


def _stale_within(seconds: float) -> list[str]:
    """PostgreSQL's change counts reach pg_stat_user_tables within a second of each commit,
    and a transaction keeps the first figures it read: each look is a new transaction."""
    deadline = time.monotonic() + seconds
    while True:
        stale = planner_statistics.stale_tables(db(), Base.metadata.tables)
        db().rollback()
        if {"people", "displays"} <= set(stale) or time.monotonic() > deadline:
            return stale
        time.sleep(0.2)


def test_tables_that_grew_are_analysed_once(app, client, project, api):
    assert api.post("/api/v1/surveys", json={"name": "In-app NPS"}).status_code == 201
    widget = Widget.of(client, project)
    for number in range(VISITORS):
        assert widget.customer(f"visitor-{number}").json["show"] is True
    with app.app_context():
        if db().get_bind().dialect.name != "postgresql":
            assert planner_statistics.stale_tables(db(), Base.metadata.tables) == []
            assert refresh_statistics(app) == 0
            return
        stale = _stale_within(10)
        assert {"people", "displays"} <= set(stale)
        assert "alembic_version" not in stale  # only the service's own tables
        assert refresh_statistics(app) == len(stale)
        # ANALYZE counted what is there: each visitor is a person with one display.
        assert _known_rows("people") == VISITORS
        assert _known_rows("displays") == VISITORS
        db().rollback()
        assert planner_statistics.stale_tables(db(), Base.metadata.tables) == []
        assert refresh_statistics(app) == 0  # nothing changed since: nothing analysed again


def test_a_few_changes_to_an_analysed_table_leave_it_alone(app, client, project, api):
    assert api.post("/api/v1/surveys", json={"name": "In-app NPS"}).status_code == 201
    widget = Widget.of(client, project)
    for number in range(VISITORS):
        widget.customer(f"visitor-{number}")
    with app.app_context():
        if db().get_bind().dialect.name != "postgresql":
            assert refresh_statistics(app) == 0
            return
        _stale_within(10)
        refresh_statistics(app)
        # 50 + a tenth of 60 rows is the threshold: 20 new people stay under it.
        for number in range(20):
            widget.customer(f"late-{number}")
        time.sleep(1.5)
        assert "people" not in planner_statistics.stale_tables(db(), Base.metadata.tables)


def test_the_pass_runs_first_in_every_worker_round(app):
    assert worker_passes()[0] == ("planner_statistics", refresh_statistics)
    assert run_once(app)["planner_statistics"] >= 0
