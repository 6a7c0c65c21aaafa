"""Erasing a person (the right to erasure), as the stored answers grow.

    .venv/bin/python -m bench.bench_erasure [--sizes 10000 100000 1000000]
                                            [--erasures 40] [--pg URL]

For each size, one database holds that many answers (a quarter as many people, one answer a
quarter for four quarters, with their period answers) and a theme run whose one point holds
the commented answers of half the people (even ids), as after a themes pass.
`surveys.erasure.erase_person` then erases `--erasures` people of the other half, spread over
the project, each in its own committed transaction, and the median is reported. Such an
erasure deletes the same few rows at every size, so its time should not grow with the tables:
the median at the largest size, against the smallest size's in the same run as the baseline,
must be at most `GROWTH_LIMIT` times it, or the run fails. The erasure of a person whose
comment sits in the theme is reported beside it: it reads the point's remaining comments to
keep only the terms someone still says, so it grows with the size of that theme by design. The data
comes from `bench.dataset` (SQLite) and `bench.pg_dataset` (PostgreSQL, one scratch database
per size from `pg_database`, dropped afterwards). Output is appended to
bench/out/bench_erasure.txt.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import dataset, pg_dataset
from bench.bench_surveys_page import pg_database
from bench.growth_report import GrowthReport
from service.db import make_engine
from surveys.clock import utcnow
from surveys.erasure import erase_person
from surveys.models import FrictionPoint, ThemeRun

OUT = Path("bench/out/bench_erasure.txt")
GROWTH_LIMIT = 2.0


def assign_comments(url: str, project_id: int, survey_id: int) -> int:
    """A finished theme run with one point holding every commented answer."""
    engine = make_engine(url)
    with Session(engine) as session:
        run = ThemeRun(project_id=project_id, survey_id=survey_id, status="done")
        session.add(run)
        session.flush()
        point = FrictionPoint(run_id=run.id, project_id=project_id, cluster=0, label="Support")
        session.add(point)
        session.flush()
        assigned = session.execute(
            text(
                "INSERT INTO theme_assignments (run_id, response_id, friction_point_id)"
                " SELECT :run, id, :point FROM survey_responses"
                " WHERE project_id = :project AND comment IS NOT NULL AND person_id % 2 = 0"
            ),
            {"run": run.id, "point": point.id, "project": project_id},
        ).rowcount
        session.commit()
    engine.dispose()
    return assigned


def erase_times(url: str, project_id: int, people: int, erasures: int, themed: bool) -> list[float]:
    """Seconds per erasure of `erasures` people spread over the project's ids: of the half
    whose comments sit in the theme, or of the other half."""
    engine = make_engine(url)
    step = max(1, people // 2 // erasures)
    with Session(engine) as session:
        ids = session.scalars(
            text("SELECT id FROM people WHERE project_id = :p AND id % 2 = :r ORDER BY id"),
            {"p": project_id, "r": 0 if themed else 1},
        ).all()[::step][:erasures]
    times = []
    for person_id in ids:
        with Session(engine) as session:
            started = time.perf_counter()
            erase_person(session, project_id, person_id, now=utcnow())
            session.commit()
            times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def measure(database: str, size: int, erasures: int, server: str | None) -> tuple[float, float]:
    people = size // 4
    with tempfile.TemporaryDirectory(prefix="flywheel-erasure-") as tmp:
        if database == "sqlite":
            built = dataset.build(Path(tmp) / "erasure.db", people=people, quarters=4)
            url = f"sqlite:///{built.path}"
            return _timed(url, built.project_id, built.survey_id, people, erasures)
        with pg_database(server) as url:
            built = pg_dataset.build(url, people=people, quarters=4)
            return _timed(url, built.project_id, built.survey_id, people, erasures)


def _timed(
    url: str, project_id: int, survey_id: int, people: int, erasures: int
) -> tuple[float, float]:
    """Median ms of an erasure (outside the theme, in it)."""
    assign_comments(url, project_id, survey_id)
    plain = erase_times(url, project_id, people, erasures, themed=False)
    themed = erase_times(url, project_id, people, erasures, themed=True)
    return statistics.median(plain) * 1000, statistics.median(themed) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--erasures", type=int, default=40)
    parser.add_argument("--pg", help="PostgreSQL server URL: the same sizes there too")
    args = parser.parse_args()
    report = GrowthReport(OUT, f"erasing a person, median of {args.erasures} erasures, ms")

    def erasure(database: str, size: int) -> tuple[float, str]:
        plain, themed = measure(database, size, args.erasures, args.pg)
        return plain, (
            f"erasure {plain:8.2f} ms  (a person whose comment is in a theme: {themed:8.2f} ms)"
        )

    databases = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    report.over_sizes(databases, args.sizes, erasure, "erasure", GROWTH_LIMIT)
    return report.close()


if __name__ == "__main__":
    raise SystemExit(main())
