"""Every team-app page's server time at 1M responses, on SQLite and on PostgreSQL.

`python -m bench.bench_pages [--url postgresql://...] [--sqlite PATH] [--repeat 3]`

- PostgreSQL (`--url`, a server URL): the database `pages_1m` on that server, built once with
  `bench.pg_dataset` (250,000 people x 4 quarters, the period answers rebuilt);
- SQLite (`--sqlite`, default bench/out/movement_data.db): the database `bench.nps_data`
  builds for bench_metrics (the same shape), when missing.
Without `--url` only SQLite runs; with `--url` and without `--sqlite` only PostgreSQL.

Once per database the project gets a friction-point run made the way a worker's run stores
one (a done run, one point per distinct comment, every detractor/passive comment assigned,
the points measured by `surveys.themes.measuring.measure_run`), so that the friction page,
the theme filter and every feed row's theme are real work, and an owner added through
`surveys.accounts.users`. Then, through the Flask test client (server time, in process), signed
in through the real sign-in form, each page the nav links to (and a filtered feed, a text
search and a person page) is timed:

- cold: the first request of that page in a fresh app (a new `create_app`, signed in);
- warm: the median of `--repeat` further requests;
- first byte (the response's first body chunk) and full body, wall time; and the CPU time
  of this process for the full body, cold and warm (the app's own work, and on SQLite the database's
  too: on a shared machine wall time is mostly waiting for a core).

Baseline, measured in the same run the same way: the account page (the team app's shell and
nav with one form and no data: what any page costs before it reads anything). Prints a table
with the ratio of each warm full-body time to the baseline's and whether it is at most
300 ms; appended to bench/out/bench_pages.txt.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, insert, literal, make_url, select, text
from sqlalchemy.orm import Session

from bench import pg_dataset
from bench.dataset import COMMENTS
from bench.team_app import signed_in
from service import migrate
from service.db import make_engine
from service.factory import create_app

SECRET = "bench-secret-key-not-for-production"
OUT = Path("bench/out")
PASSWORD = "bench password of the owner"
EMAIL = "owner@pages.example"
TARGET = 0.300
BASELINE = ("baseline: account page", "/app/account")


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    project_id: int
    survey_id: int
    responses: int


def pages(t: Target, person_id: int, point_id: int | None, quarter: str) -> list[tuple[str, str]]:
    """(name, path) of every page the nav links to, plus the feed's filters and a person."""
    theme = [("responses, one friction point", f"/app/responses?theme={point_id}")]
    return [
        ("overview", "/app/"),
        ("friction points", "/app/friction-points"),
        ("responses", "/app/responses"),
        (
            "responses, filtered",
            f"/app/responses?period={quarter}&segment=detractor&channel=email",
        ),
        ("responses, text search", "/app/responses?q=pricing"),
        ("responses, text search, no match", "/app/responses?q=no+such+words"),
        *(theme if point_id is not None else []),
        ("responses, older page", "/app/responses?older={older}"),
        ("person", f"/app/people/{person_id}"),
        ("movement", "/app/movement"),
        ("surveys", "/app/surveys"),
        ("export", "/app/export"),
        ("alerts", "/app/alerts"),
        ("digest", "/app/digest"),
        ("webhooks", "/app/webhooks"),
        ("users", "/app/users"),
        ("settings", "/app/settings"),
    ]


def pg_target(base: str) -> Target:
    url = make_url(base).set(database="pages_1m").render_as_string(hide_password=False)
    found = pg_dataset.existing(url)
    if found is None or found.responses != 1_000_000:
        print("building 1,000,000 responses in pages_1m ...", flush=True)
        found = pg_dataset.build(url, people=250_000, quarters=4)
    engine = make_engine(url)
    migrate.upgrade(engine)  # a revision since the build (an index, a table) is applied
    engine.dispose()
    return Target("PostgreSQL", url, found.project_id, found.survey_id, found.responses)


def sqlite_target(path: Path) -> Target:
    from bench.nps_data import open_bench_db

    bench = open_bench_db(path, 250_000, 4)  # builds when missing, migrates, period answers
    bench.app.extensions["db_engine"].dispose()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM survey_responses"))
    engine.dispose()
    return Target("SQLite", url, bench.project_id, bench.survey_id, count)


def seed_theme_run(session: Session, project_id: int) -> int:
    """A done friction-point run, stored as the worker stores one: one point per distinct
    comment, every comment in the run's scope assigned by SQL, then measured by the domain.
    (Fitting the model on 300,000 comments is bench_clustering's business, not the pages'.)
    Returns the first point's id."""
    from surveys.clock import utcnow
    from surveys.models import FrictionPoint, Project, SurveyResponse, ThemeAssignment, ThemeRun
    from surveys.themes.impact import overall
    from surveys.themes.measuring import measure_run
    from surveys.themes.runs import RunParams, make_params, queue_run
    from surveys.themes.scope import comment_conditions

    done = session.scalar(
        select(FrictionPoint.id)
        .join(ThemeRun, ThemeRun.id == FrictionPoint.run_id)
        .where(ThemeRun.project_id == project_id, ThemeRun.status == "done")
        .order_by(FrictionPoint.rank)
        .limit(1)
    )
    if done is not None:
        return done
    started = time.perf_counter()
    now = utcnow()
    run = queue_run(session, project_id, make_params(), now=now)
    points = []
    for cluster, comment in enumerate(COMMENTS):
        point = FrictionPoint(
            run_id=run.id,
            project_id=project_id,
            cluster=cluster,
            label=comment[:40],
            top_terms=comment.lower().split()[:5],
            quotes=[],
            trend=[],
        )
        session.add(point)
        points.append(point)
    session.flush()
    r = SurveyResponse
    params = RunParams.from_json(run.params)
    which = case(*[(r.comment == c, p.id) for c, p in zip(COMMENTS, points, strict=True)])
    session.execute(
        insert(ThemeAssignment).from_select(
            ["run_id", "response_id", "friction_point_id"],
            select(literal(run.id), r.id, which).where(*comment_conditions(project_id, params)),
        )
    )
    comments = session.scalar(select(func.count()).where(*comment_conditions(project_id, params)))
    base = overall(session, project_id, params)
    run.counts = {
        "comments": comments,
        "themes": len(points),
        "assigned": comments,
        "unassigned": 0,
        "respondents": base.respondents,
        "detractors": base.detractors,
        "nps": base.nps,
        "assigned_after_run": 0,
    }
    run.assigned_until_id = session.scalar(select(func.max(r.id)).where(r.project_id == project_id))
    run.status, run.finished_at, run.unassigned_share = "done", now, 0.0
    project = session.get(Project, project_id)
    measure_run(session, run, project.time_zone, now)
    for point in points:  # a few quotes, as the model picks them
        point.quotes = [
            {"response_id": rid, "text": point.label, "score": score}
            for rid, score in session.execute(
                select(ThemeAssignment.response_id, r.score)
                .join(r, r.id == ThemeAssignment.response_id)
                .where(ThemeAssignment.friction_point_id == point.id)
                .limit(3)
            )
        ]
    session.flush()
    print(f"theme run stored: {comments:,} comments in {time.perf_counter() - started:.1f} s")
    return min(points, key=lambda p: p.rank).id


def prepare(t: Target) -> tuple[int | None, int, str]:
    """The theme run and the owner; returns (a point id, a person with answers, a quarter)."""
    from surveys.accounts.roles import Role
    from surveys.accounts.users import add_member, find_user, set_password
    from surveys.models import SurveyResponse

    engine = make_engine(t.url)
    with Session(engine) as session:
        point_id = seed_theme_run(session, t.project_id)
        if find_user(session, EMAIL) is None:
            added = add_member(session, t.project_id, EMAIL, Role.OWNER)
            set_password(session, added.user, PASSWORD)
        session.commit()
        r = SurveyResponse
        newest = session.execute(
            select(r.person_id, r.created_at)
            .where(r.project_id == t.project_id)
            .order_by(r.id.desc())
            .limit(1)
        ).one()
    engine.dispose()
    at = newest.created_at
    return point_id, newest.person_id, f"{at.year}-Q{(at.month - 1) // 3 + 1}"


def fresh_client(t: Target, tmp: Path) -> tuple[Any, Any]:
    """A new app on the database and a test client signed in through the sign-in form."""
    app = create_app({"DATABASE_URL": t.url, "SECRET_KEY": SECRET, "VAR_DIR": str(tmp)})
    client = signed_in(app, EMAIL, PASSWORD)
    return app, client


def fetch(client: Any, path: str) -> tuple[float, float, float, bytes]:
    """(seconds to the first body chunk, seconds to the whole body, this process's CPU
    seconds for the whole body, the body)."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = client.get(path, buffered=False)
    first, chunks = None, []
    for chunk in r.response:
        if first is None:
            first = time.perf_counter() - t0
        chunks.append(chunk)
    r.close()
    full = time.perf_counter() - t0
    cpu = time.process_time() - c0
    body = b"".join(chunks)
    assert r.status_code == 200, (path, r.status_code, body[:500])
    return first if first is not None else full, full, cpu, body


_OLDER = re.compile(rb'href="[^"]*[?&;]older=(\d+)')


def measure(t: Target, repeat: int, tmp: Path) -> list[dict[str, Any]]:
    point_id, person_id, quarter = prepare(t)
    rows = []
    older = "0"
    for name, path in [BASELINE, *pages(t, person_id, point_id, quarter)]:
        path = path.replace("{older}", older)
        app, client = fresh_client(t, tmp)
        cold_first, cold_full, cold_cpu, body = fetch(client, path)
        warm = [fetch(client, path) for _ in range(repeat)]
        if name == "responses":
            found = _OLDER.search(body)
            older = found.group(1).decode() if found else older
        rows.append(
            {
                "name": name,
                "path": path,
                "cold": (cold_first, cold_full),
                "warm": (
                    statistics.median(w[0] for w in warm),
                    statistics.median(w[1] for w in warm),
                ),
                "cpu": (cold_cpu, statistics.median(w[2] for w in warm)),
                "bytes": len(body),
            }
        )
        app.extensions["db_engine"].dispose()
    return rows


def table(t: Target, rows: list[dict[str, Any]]) -> list[str]:
    base = rows[0]["warm"][1]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {t.label}, {t.responses:,} responses,"
        f" load average {load}; ms: first byte / full body",
        f"{'page':<32} | {'cold':>15} | {'warm (median)':>15} | {'ratio':>6} | "
        f"{'CPU ms cold/warm':>15} | ≤ 300 ms?",
    ]
    for row in rows:
        cold, warm = row["cold"], row["warm"]
        ok = "yes" if max(cold[1], warm[1]) <= TARGET else ("warm" if warm[1] <= TARGET else "NO")
        lines.append(
            f"{row['name']:<32} | {1000 * cold[0]:6.0f} / {1000 * cold[1]:6.0f} | "
            f"{1000 * warm[0]:6.0f} / {1000 * warm[1]:6.0f} | {warm[1] / base:6.2f} | "
            f"{1000 * row['cpu'][0]:6.0f} / {1000 * row['cpu'][1]:6.0f} | {ok}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server URL (the database pages_1m)")
    parser.add_argument("--sqlite", type=Path, help="the SQLite database (bench_metrics')")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.sqlite is None and args.url is None:
        args.sqlite = Path("bench/out/movement_data.db")
    OUT.mkdir(parents=True, exist_ok=True)
    targets: list[Callable[[], Target]] = []
    if args.sqlite is not None:
        targets.append(lambda: sqlite_target(args.sqlite))
    if args.url is not None:
        targets.append(lambda: pg_target(args.url))
    for make in targets:
        t = make()
        lines = table(t, measure(t, args.repeat, OUT / "var"))
        print("\n".join(lines), flush=True)
        with (OUT / "bench_pages.txt").open("a") as fh:
            fh.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
