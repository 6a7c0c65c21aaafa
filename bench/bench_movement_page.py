"""CPU and wall seconds of the movement page and the movement API over the 1M SQLite database.

`python -m bench.bench_movement_page [--db bench/out/movement_data.db] [--runs 5]`: the
database `bench.bench_movement` uses (migrated, period answers rebuilt when stale), a fresh
app with an owner signed in (the helpers of `bench.bench_growth`); each call timed with
`time.process_time()` (SQLite runs in process: its CPU is the request's whole cost, which the
machine's other load moves less than wall time) and `time.perf_counter()`. Prints the first
call (a fresh process: templates compile) and the median of the others.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_growth import PASSWORD, app_for, sqlite_data
from bench.team_app import signed_in


def run(name: str, fn: Callable[[], None], runs: int) -> str:
    cpu, wall = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    line = (
        f"{name:48s} CPU first {cpu[0]:.3f} median {statistics.median(cpu[1:]):.3f} s | "
        f"wall first {wall[0]:.3f} median {statistics.median(wall[1:]):.3f} s"
    )
    print(line, flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("bench/out/movement_data.db"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pair", nargs=2, default=["2025-Q3", "2025-Q4"])
    args = parser.parse_args()
    url, data = sqlite_data(args.db)
    app, auth, email = app_for(url, data, args.db.parent / "var")
    team, client = signed_in(app, email, PASSWORD), app.test_client()
    a, b = args.pair
    pair = f"survey_id={data.survey_id}&from={a}&to={b}"

    def get(c, path: str, **kw) -> Callable[[], None]:
        def call() -> None:
            r = c.get(path, **kw)
            assert r.status_code == 200, r.status_code

        return call

    movers = "&from_segment=promoter&to_segment=detractor&limit=100"
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {data.responses:,} responses, {a} -> {b}")
    run("GET /app/movement (page)", get(team, f"/app/movement?{pair}"), args.runs)
    run("GET /metrics/movement", get(client, f"/api/v1/metrics/movement?{pair}", headers=auth),
        args.runs)  # fmt: skip
    weighted = f"/api/v1/metrics/movement?{pair}&weight=property:mrr"
    run("GET /metrics/movement&weight=property:mrr", get(client, weighted, headers=auth),
        args.runs)  # fmt: skip
    people = get(client, f"/api/v1/movement/people?{pair}{movers}", headers=auth)
    run("GET /movement/people (promoter->detractor, 100)", people, args.runs)


if __name__ == "__main__":
    main()
