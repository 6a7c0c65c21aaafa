"""SQLite's own plan of what a piece of the service runs, as the plan tests need it.

The service gathers no planner statistics on SQLite, so SQLite plans from the schema alone:
these tests check that a statement names the leading columns of the index it needs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from service.db import make_engine


def sqlite_plans(
    template: Path, tmp_path: Path, call: Callable[[Session], Any], pick: Callable[[str], bool]
) -> list[list[str]]:
    """`call(session)` on a copy of the migrated `template`, with every statement it runs
    traced by the driver as SQLite ran it (its values bound in); the `EXPLAIN QUERY PLAN`
    steps of each statement that `pick` selects. Nothing `call` writes is kept."""
    path = tmp_path / "plan.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    traced: list[str] = []
    try:
        with Session(engine) as session:
            connection = session.connection()
            connection.connection.driver_connection.set_trace_callback(traced.append)
            call(session)
            chosen = [sql for sql in traced if pick(sql)]
            plans = [
                [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
                for sql in chosen
            ]
            session.rollback()
    finally:
        engine.dispose()
    return plans
