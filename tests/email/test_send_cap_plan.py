"""The per-minute send cap's count, planned by SQLite itself (which the service never
analyses): it seeks the last minute's messages by the `sent_at` index instead of reading
every invitation ever made, once per dispatched batch."""

from __future__ import annotations

import shutil
from datetime import datetime

from sqlalchemy.orm import Session

from service.db import make_engine
from surveys.email import delivery


def test_the_send_cap_counts_the_last_minute_by_its_index(tmp_path, sqlite_template):
    path = tmp_path / "plan.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    traced: list[str] = []
    try:
        with Session(engine) as session:
            session.connection().connection.driver_connection.set_trace_callback(traced.append)
            assert delivery.sent_since(session, datetime(2026, 1, 1)) == 0
            (count,) = [sql for sql in traced if "count(*)" in sql]
            plan = [
                row[3]
                for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + count)
            ]
    finally:
        engine.dispose()
    assert plan == ["SEARCH invitations USING COVERING INDEX ix_invitations_sent (sent_at>?)"]
