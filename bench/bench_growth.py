"""How cost grows with the answers: 100k, 1M (and 10M) responses on PostgreSQL.

`python -m bench.bench_growth --sizes 100000 1000000 [--url postgresql://...]` builds (once)
one database per size with `bench.pg_dataset` (people x 4 quarters) and times, through the
Flask test client (server time, in process), each cold (the first call of a fresh app) and
warm (median of `--repeat`):
- `GET /api/v1/metrics/nps?group_by=quarter` (checked equal to a hand-written ROW_NUMBER
  query over the answers, timed too);
- `GET /api/v1/metrics/movement` between the last two quarters, and the first 100 movers;
- the CSV export's first byte and rows per second (over at most `--export-rows` rows);
- the team app's overview page, signed in as an owner.
Prints one table of times per size; output is appended to bench/out/bench_growth.txt.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from bench import pg_dataset
from bench.team_app import signed_in
from service import migrate
from service.db import make_engine
from service.factory import create_app

SECRET = "bench-secret-key-not-for-production"
OUT = Path("bench/out")
PASSWORD = "bench password of the owner"

HAND_SQL = """
SELECT q, count(*), sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END),
       sum(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END),
       sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END)
FROM (
  SELECT to_char(created_at, 'YYYY-"Q"Q') AS q, score,
         row_number() OVER (PARTITION BY to_char(created_at, 'YYYY-"Q"Q'), person_id
                            ORDER BY created_at DESC, id DESC) AS rn
  FROM survey_responses
  WHERE project_id = :p AND score IS NOT NULL AND NOT excluded
) AS ranked WHERE rn = 1 GROUP BY q ORDER BY q
"""


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(cold seconds, warm median seconds, last result)."""
    t0 = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - t0
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return cold, statistics.median(runs), result


def size_url(base: str, size: int, prefix: str = "flywheel_growth") -> str:
    name = f"{prefix}_{size // 1000}k"
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def prepare(url: str, size: int) -> pg_dataset.PgDataset:
    found = pg_dataset.existing(url)
    if found is not None and found.responses == size:
        engine = make_engine(url)
        migrate.upgrade(engine)  # a revision since the build (an index, a table) is applied
        engine.dispose()
        keep_current(url, found.project_id)
        return found
    print(f"building {size:,} responses in {make_url(url).database} ...", flush=True)
    return pg_dataset.build(url, people=size // 4, quarters=4)


def keep_current(url: str, project_id: int) -> None:
    """What the worker does after an upgrade that made the period answers stale: rebuild."""
    from sqlalchemy.orm import Session

    from surveys import period_answers
    from surveys.models import Project

    engine = make_engine(url)
    with Session(engine) as session:
        project = session.get(Project, project_id)
        if not period_answers.is_current(project):
            started = time.perf_counter()
            rows = period_answers.rebuild(session, project)
            session.commit()
            took = time.perf_counter() - started
            print(f"period answers rebuilt: {rows:,} rows in {took:.1f} s", flush=True)
            session.execute(text("ANALYZE"))
            session.commit()
    engine.dispose()


def app_for(url: str, data: pg_dataset.PgDataset, tmp: Path) -> tuple[Any, dict[str, str], str]:
    """A fresh app on the database, a new secret key and an owner's email."""
    from service.db import db
    from surveys.accounts.roles import Role
    from surveys.accounts.users import add_member, find_user, set_password
    from surveys.projects import rotate_keys

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "VAR_DIR": str(tmp)})
    email = "owner@bench.example"
    with app.app_context():
        secret = rotate_keys(db(), data.project_id).keys.secret_key
        if find_user(db(), email) is None:
            added = add_member(db(), data.project_id, email, Role.OWNER)
            set_password(db(), added.user, PASSWORD)
        db().commit()
    return app, {"Authorization": f"Bearer {secret}"}, email


def export_figures(client: Any, auth: dict[str, str], limit: int) -> tuple[float, float, int]:
    """(first byte seconds, rows per second, rows read) of the CSV export."""
    t0 = time.perf_counter()
    r = client.get("/api/v1/export/responses?format=csv", headers=auth, buffered=False)
    assert r.status_code == 200
    first = None
    rows = 0
    for chunk in r.response:
        if first is None:
            first = time.perf_counter() - t0
        rows += chunk.count(b"\n")
        if rows >= limit:
            break
    r.close()
    seconds = time.perf_counter() - t0
    return first or seconds, rows / seconds, rows


def sqlite_data(path: Path) -> tuple[str, pg_dataset.PgDataset]:
    """The SQLite database `bench.nps_data` builds (bench_metrics' 1M answers), migrated."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        project_id, survey_id = conn.execute(text("SELECT project_id, id FROM surveys")).one()
        count = conn.scalar(text("SELECT count(*) FROM survey_responses"))
    engine.dispose()
    keep_current(url, project_id)
    return url, pg_dataset.PgDataset(url, project_id, survey_id, count)


def measure(
    base: str, size: int, repeat: int, export_rows: int, tmp: Path, sqlite: Path | None = None
) -> dict[str, Any]:
    if sqlite is not None:
        url, data = sqlite_data(sqlite)
        size = data.responses
    else:
        url = base
        data = prepare(url, size)
    app, auth, email = app_for(url, data, tmp)
    client = app.test_client()

    def get(path: str) -> Any:
        r = client.get(path, headers=auth)
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        return r.json

    out: dict[str, Any] = {"size": size}
    out["nps"] = timed(lambda: get("/api/v1/metrics/nps?group_by=quarter"), repeat)
    answer = out["nps"][2]
    labels = [b["key"] for b in answer["buckets"]]
    if sqlite is not None:
        # The hand-written baseline and the equality check on SQLite are bench_metrics'.
        out["hand"] = (float("nan"), float("nan"), None)
        return _the_rest(out, app, client, get, auth, email, data, labels, repeat, export_rows)
    engine = make_engine(url)
    with engine.connect() as conn:

        def hand() -> list[tuple]:
            return [tuple(row[1:]) for row in conn.execute(text(HAND_SQL), {"p": data.project_id})]

        out["hand"] = timed(hand, repeat)
    engine.dispose()
    got = [
        (b["responses"], b["promoters"], b["passives"], b["detractors"]) for b in answer["buckets"]
    ]
    assert got == out["hand"][2], (got, out["hand"][2])
    return _the_rest(out, app, client, get, auth, email, data, labels, repeat, export_rows)


def _the_rest(  # noqa: PLR0913 (the measured app and what it was given)
    out: dict[str, Any],
    app: Any,
    client: Any,
    get: Callable[[str], Any],
    auth: dict[str, str],
    email: str,
    data: pg_dataset.PgDataset,
    labels: list[str],
    repeat: int,
    export_rows: int,
) -> dict[str, Any]:
    a, b = labels[-2], labels[-1]
    movement = f"/api/v1/metrics/movement?survey_id={data.survey_id}&from={a}&to={b}"
    out["movement"] = timed(lambda: get(movement), repeat)
    movers = movement.replace("/metrics/movement", "/movement/people")
    movers += "&from_segment=promoter&to_segment=detractor&limit=100"
    out["movers"] = timed(lambda: get(movers), repeat)
    out["export"] = export_figures(client, auth, export_rows)
    team = signed_in(app, email, PASSWORD)

    def overview() -> int:
        r = team.get("/app/")
        assert r.status_code == 200, r.status_code
        return len(r.data)

    out["overview"] = timed(overview, repeat)

    def movement_page() -> int:
        r = team.get(f"/app/movement?survey_id={data.survey_id}&from={a}&to={b}")
        assert r.status_code == 200, r.status_code
        assert b'data-metric="revenue_moved_down"' in r.data
        return len(r.data)

    out["movement_page"] = timed(movement_page, repeat)
    app.extensions["db_engine"].dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefix", default="flywheel_growth", help="database name prefix")
    parser.add_argument("--export-rows", type=int, default=200_000)
    parser.add_argument(
        "--sqlite", type=Path, help="instead: the SQLite database bench_metrics built (1M)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    database = "SQLite" if args.sqlite else "PostgreSQL"
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {database}, cold / warm median seconds"]
    header = (
        f"{'responses':>11} | {'NPS by quarter':>15} | {'hand SQL':>15} | {'movement':>15} | "
        f"{'movers':>15} | {'overview page':>15} | {'movement page':>15} | "
        "export first byte, rows/s"
    )
    lines.append(header)
    print("\n".join(lines), flush=True)
    for size in [0] if args.sqlite else args.sizes:
        m = measure(
            size_url(args.url, size, args.prefix) if not args.sqlite else args.url,
            size,
            args.repeat,
            args.export_rows,
            OUT / "var",
            args.sqlite,
        )
        size = m["size"]
        cells = [
            f"{m[k][0]:6.3f} / {m[k][1]:6.3f}"
            for k in ("nps", "hand", "movement", "movers", "overview", "movement_page")
        ]
        first, rate, rows = m["export"]
        line = (
            f"{size:>11,} | " + " | ".join(cells) + f" | {first:.3f} s, {rate:,.0f} rows/s"
            f" ({rows:,} rows)"
        )
        print(line, flush=True)
        lines.append(line)
    with (OUT / "bench_growth.txt").open("a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
