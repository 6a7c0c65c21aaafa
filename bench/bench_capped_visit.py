"""A widget visit to a survey with a daily answer cap, as the stored answers grow.

    .venv/bin/python -m bench.bench_capped_visit [--sizes 10000 100000 1000000]
                                                 [--visits 300] [--pg URL]

A capped survey's visit counts the day's widget answers of that survey. For each size, one
database holds that many answers of the survey spread over two years, `TODAY` of them today;
a returning visitor's visit (through the Flask test client, in process, median of
`--visits`) is timed with the survey capped and, as the baseline in the same run, with the
cap lifted (the same statement, the count skipped). The ratio capped / uncapped must stay
flat as the answers grow: at the largest size at most `GROWTH_LIMIT` times that of the
smallest, or the run fails. SQLite gets no planner statistics, as a database the service
filled itself has none; PostgreSQL's are gathered by the worker's own pass
(`gather_statistics`). The answers go in by the driver past the per-answer upkeep: a visit
reads none of the pre-aggregates. `--pg` takes a server URL and uses (and drops) one scratch
database per size (`pg_database`). Output is appended to bench/out/bench_capped_visit.txt.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text, update

from bench.bench_http import gather_statistics, prepare
from bench.bench_surveys_page import pg_database
from bench.growth_report import GrowthReport
from service.db import db
from service.factory import create_app
from surveys.models import Person, Survey, SurveyResponse

OUT = Path("bench/out/bench_capped_visit.txt")
TODAY = 1000  # the day's answers, which every capped visit counts
PEOPLE = 20_000
CHUNK = 50_000
GROWTH_LIMIT = 2.0


def fill(survey_id: int, size: int) -> None:
    """`size` answers of the survey by `PEOPLE` people, half through the widget, `TODAY` of
    them today and the rest over the two years before."""
    session = db()
    project_id = session.get(Survey, survey_id).project_id
    now = datetime.now().replace(microsecond=0)
    session.execute(
        insert(Person.__table__),
        [
            {
                "project_id": project_id,
                "external_id": f"p-{n}",
                "properties": {},
                "added_at": now,
                "updated_at": now,
                "anonymous": False,
                "trusted": True,
            }
            for n in range(PEOPLE)
        ],
    )
    first = session.scalar(text("SELECT min(id) FROM people WHERE external_id = 'p-0'"))
    for start in range(0, size, CHUNK):
        session.execute(
            insert(SurveyResponse.__table__),
            [
                {
                    "project_id": project_id,
                    "survey_id": survey_id,
                    "person_id": first + n % PEOPLE,
                    "score": n % 11,
                    "channel": "widget" if n % 2 else "email",
                    "excluded": False,
                    "properties": {},
                    "created_at": now - timedelta(seconds=n % 600)
                    if n < TODAY
                    else now - timedelta(days=1 + n % 730, seconds=n % 86_400),
                    "updated_at": now,
                }
                for n in range(start, min(size, start + CHUNK))
            ],
        )
        session.commit()


def visit_times(app, publishable_key: str, visits: int) -> float:
    """Median milliseconds of a returning visitor's visit."""
    client = app.test_client()
    url = f"/w/v1/visits?key={publishable_key}"
    body = b'{"external_id":"p-7","created_at":"2020-01-01T00:00:00Z"}'
    for _ in range(20):  # the first visit creates the display; later ones resume it
        assert client.post(url, data=body, content_type="application/json").status_code == 200
    times = []
    for _ in range(visits):
        start = time.perf_counter()
        answer = client.post(url, data=body, content_type="application/json")
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.data
    return statistics.median(times)


def set_cap(survey_id: int, cap: int | None) -> None:
    db().execute(update(Survey).where(Survey.id == survey_id).values(daily_response_cap=cap))
    db().commit()


def measure(database_url: str, size: int, visits: int, tmp: Path) -> tuple[float, float]:
    """(capped, uncapped) median visit milliseconds over a database of `size` answers."""
    env, _secret, publishable_key, survey_id = prepare(database_url, tmp / "var")
    app = create_app(env)
    with app.app_context():
        fill(survey_id, size)
    gather_statistics(env)
    with app.app_context():
        results = []
        for cap in (10**6, None):
            set_cap(survey_id, cap)
            results.append(visit_times(app, publishable_key, visits))
    app.extensions["db_engine"].dispose()
    return results[0], results[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--pg", help="PostgreSQL server URL: the same sizes there too")
    args = parser.parse_args()
    report = GrowthReport(
        OUT, f"capped-survey visits, {args.visits} per figure, median ms (in process)"
    )

    def capped_ratio(database: str, size: int) -> tuple[float, str]:
        with tempfile.TemporaryDirectory(prefix="flywheel-capped-") as tmp:
            if database == "sqlite":
                url = f"sqlite:///{tmp}/capped.db"
                capped, uncapped = measure(url, size, args.visits, Path(tmp))
            else:
                with pg_database(args.pg) as url:
                    capped, uncapped = measure(url, size, args.visits, Path(tmp))
        ratio = capped / uncapped
        return ratio, f"capped {capped:6.2f} ms  uncapped {uncapped:6.2f} ms  ratio {ratio:5.2f}"

    databases = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    report.over_sizes(databases, args.sizes, capped_ratio, "ratio", GROWTH_LIMIT)
    return report.close()


if __name__ == "__main__":
    raise SystemExit(main())
