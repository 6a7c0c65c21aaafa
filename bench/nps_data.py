"""The 1M-response benchmark database, migrated, with an app and a fresh key to query it.

Shared by `bench.bench_metrics` and `bench.bench_movement`: builds the database with
`bench.dataset` when it is missing, else brings it to the latest migration (so new indexes are
there, with statistics for the planner), builds the period answers as the worker would (the
rows were written in bulk, not through the API), and rotates the project's keys to call the API.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import dataset
from service import migrate
from service.db import make_engine
from service.factory import create_app

BENCH_SECRET = "bench-secret-key-not-for-production"


@dataclass
class BenchDb:
    path: Path
    app: Any
    auth: dict[str, str]
    project_id: int
    survey_id: int


def bench_arguments(doc: str) -> argparse.Namespace:
    """The options every benchmark over this database takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("bench/out/movement_data.db"))
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def open_bench_db(path: Path, people: int, quarters: int) -> BenchDb:
    if not path.exists():
        print(f"building {path} ({people:,} people x {quarters} quarters) ...", flush=True)
        dataset.build(path, people=people, quarters=quarters)
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    stats = {row[0] for row in con.execute("SELECT idx FROM sqlite_stat1")}
    indexes = {
        row[0]
        for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    if indexes - stats:  # a migration added an index since the last ANALYZE
        con.execute("ANALYZE")
        con.commit()
    project_id, survey_id = con.execute("SELECT project_id, id FROM surveys LIMIT 1").fetchone()
    con.close()

    from surveys import period_answers
    from surveys.models import Project
    from surveys.projects import rotate_keys

    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        secret = rotate_keys(session, project_id).keys.secret_key
        session.commit()
        project = session.get(Project, project_id)
        if not period_answers.is_current(project):
            # What the worker does after an upgrade: the rows are written in bulk here,
            # bypassing the per-answer upkeep.
            started = time.perf_counter()
            rows = period_answers.rebuild(session, project)
            session.commit()
            # The statistics taken above saw the rows before the rebuild filled them.
            session.execute(text("ANALYZE"))
            session.commit()
            print(f"period answers rebuilt: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "VAR_DIR": str(path.parent / "var"),
            "SECRET_KEY": BENCH_SECRET,
        }
    )
    return BenchDb(path, app, {"Authorization": f"Bearer {secret}"}, project_id, survey_id)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """(median seconds, every run, last result) after one warm-up run."""
    result = fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs, result


def report(name: str, seconds: float, runs: list[float], baseline: float | None = None) -> str:
    ratio = f"  ratio {seconds / baseline:.2f}x" if baseline else ""
    every = ", ".join(f"{r:.3f}" for r in runs)
    line = f"{name:<44} median {seconds:7.3f} s  (runs: {every}){ratio}"
    print(line, flush=True)
    return line


def conclude(
    lines: list[str],
    out: Path,
    seconds: float,
    baseline: float,
    max_ratio: float,
    max_seconds: float,
) -> None:
    """Print the verdict against the targets and append the run's lines to `out`."""
    ratio = seconds / baseline
    met = ratio <= max_ratio and seconds < max_seconds
    verdict = (
        f"ratio {ratio:.2f}x (target <= {max_ratio:g}x), {seconds:.3f} s "
        f"(target < {max_seconds:g} s): " + ("MET" if met else "NOT MET")
    )
    print(verdict)
    lines.append(verdict)
    with out.open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")
