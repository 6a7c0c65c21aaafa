"""Threads per gunicorn worker, A/B in one run: the same app on the same database under
`GUNICORN_THREADS=1` and `=4` (4 workers each), with a hello-world baseline under each setting,
measured in alternating rounds so that both sides of every ratio meet the same machine load.

    .venv/bin/python -m bench.bench_threads [--load ingest|new|back] [--rounds 5]
                                            [--seconds 5] [--database-url URL] [--threads 1 4]
                                            [--history ANSWERS]

`ingest` posts answers (`POST /api/v1/responses`, a pool of 5,000 people), `new` sends first
widget visits, `back` returning ones (bodies as in `bench_http`). It backs the default of
`gunicorn.conf.py`: one thread per worker on SQLite, four on PostgreSQL. Raw output goes to
bench/out/.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.bench_http import add_history, answer_body, gather_statistics, prepare, visit_body
from bench.http_load import OUT, WrkResult, gunicorn, post_json_lua, wrk

SETTINGS = ("1", "4")  # the defaults on SQLite and PostgreSQL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", choices=("ingest", "new", "back"), default="ingest")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", help="default: a fresh SQLite file (WAL)")
    parser.add_argument(
        "--history", type=int, default=0, help="answers of past days the project holds first"
    )
    parser.add_argument(
        "--threads", nargs="+", default=list(SETTINGS), help="settings compared (default: 1 4)"
    )
    args = parser.parse_args()
    settings = tuple(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    run = {"seconds": args.seconds, "connections": args.connections}
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp, ExitStack() as stack:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env, secret_key, publishable_key, survey_id = prepare(database_url, Path(tmp) / "var")
        add_history(database_url, survey_id, args.history)
        apps, hellos = {}, {}
        for threads in settings:
            setting = {**env, "WEB_CONCURRENCY": "4", "GUNICORN_THREADS": threads}
            apps[threads] = stack.enter_context(
                gunicorn("wsgi:app", setting, f"threads-{threads}", "/healthz", ready_seconds=240)
            )
            hellos[threads] = stack.enter_context(
                gunicorn(
                    "bench.http_load:hello_app", setting, f"hello-{threads}", ready_seconds=240
                )
            )

        def load(threads: str, name: str) -> WrkResult:
            if args.load == "ingest":
                url = apps[threads] + "/api/v1/responses"
                lua = post_json_lua(
                    answer_body(survey_id, 5000), {"Authorization": f"Bearer {secret_key}"}
                )
            else:
                url = f"{apps[threads]}/w/v1/visits?key={publishable_key}"
                pool = ("back", 100) if args.load == "back" else ("new", 10**9)
                lua = post_json_lua(visit_body(*pool))
            return wrk(url, lua=lua, name=name, **run)

        for threads in settings:  # warm-up: the pool's people exist before the rounds
            load(threads, f"threads-{threads}-warm")
        gather_statistics(env)  # as the worker's statistics pass would by now
        figures: dict[str, list[float]] = {f"{kind}{t}": [] for kind in "ahp" for t in settings}
        for number in range(args.rounds):
            for threads in settings:
                result = load(threads, f"threads-{threads}-{number}")
                figures[f"a{threads}"].append(result.requests_per_second)
                figures[f"p{threads}"].append(result.latency_p99_ms)
                hello = wrk(
                    hellos[threads] + "/hello",
                    lua=post_json_lua(visit_body("v", 100)),
                    name=f"hello-{threads}-{number}",
                    **run,
                )
                figures[f"h{threads}"].append(hello.requests_per_second)

    database = "given URL" if args.database_url else "SQLite (WAL)"
    lines = [
        f"database: {database}; load: {args.load}; 4 workers; {args.rounds} rounds; "
        f"{args.history:,} answers of past days"
    ]
    for threads in settings:
        app, hello = figures[f"a{threads}"], figures[f"h{threads}"]
        ratio = statistics.median(app) / statistics.median(hello)
        lines.append(
            f"{threads} thread(s) per worker: {args.load} median {statistics.median(app):.0f} "
            f"req/s ({', '.join(f'{x:.0f}' for x in app)}); hello-world median "
            f"{statistics.median(hello):.0f} req/s; ratio {ratio:.2f}; p99 median "
            f"{statistics.median(figures[f'p{threads}']):.0f} ms"
        )
    print("\n".join(lines))
    (OUT / f"bench_threads_{args.load}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
