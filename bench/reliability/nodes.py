"""Several nodes on one PostgreSQL: two gunicorn instances and two workers under ingest load.

    python -m bench.reliability.nodes --seconds 60 --clients 32

Half the client threads talk to each gunicorn instance (2 workers each), sending the load of
`bench.reliability.load` (API answers with their own Idempotency-Key, and widget visits then
scores); two `surveys worker` processes run beside them on the same database. Afterwards every
acknowledged answer must be stored exactly once with its score (nothing lost, nothing doubled:
no stored answer that was not acknowledged), the period answers must equal a rebuild, and the
people per period and score (`period_scores`, kept by triggers under concurrent writers) must
equal a count of the period answers. Prints the total throughput and each node's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

from sqlalchemy import text

from bench.http_load import gunicorn
from bench.reliability.load import Client, Tally, verify
from bench.reliability.setup import OUT, PG_DEFAULT, drop_database, fresh_database, seed
from service.db import make_engine

WORKERS_PER_NODE = 2


def scores_mismatch(url: str) -> int:
    """(survey, unit, period, score) keys whose trigger-kept count differs from a count."""
    engine = make_engine(url)
    with engine.connect() as conn:
        counted = dict(
            (tuple(r[:4]), r[4])
            for r in conn.execute(
                text(
                    "SELECT survey_id, unit, period, score, count(*) FROM period_answers"
                    " GROUP BY survey_id, unit, period, score"
                )
            )
        )
        kept = {
            tuple(r[:4]): r[4]
            for r in conn.execute(
                text(
                    "SELECT survey_id, unit, period, score, sum(people) FROM period_scores"
                    " GROUP BY survey_id, unit, period, score"
                )
            )
            if r[4]
        }
    engine.dispose()
    return len(set(counted.items()) ^ set(kept.items()))


def run(seconds: int, clients: int, pg_url: str) -> dict:
    url = fresh_database("postgresql", "nodes", pg_url)
    target = seed(url, "postgresql")
    env = {
        "DATABASE_URL": url,
        "VAR_DIR": str(OUT / "var"),
        "SECRET_KEY": "reliability-secret-key-not-for-production",
        "WEB_CONCURRENCY": str(WORKERS_PER_NODE),
        "ACCESS_LOG": "/dev/null",
        "RATE_LIMIT_WIDGET_IP": "1000000/minute",
        "RATE_LIMIT_WIDGET_KEY": "1000000/minute",
        "RATE_LIMIT_API": "1000000/minute",
    }
    tallies = [Tally(), Tally()]
    try:
        with ExitStack() as stack:
            bases = [
                stack.enter_context(
                    gunicorn("wsgi:app", env, f"node-{n}", ready_path="/healthz", ready_seconds=300)
                )
                for n in (1, 2)
            ]
            workers = [
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "surveys", "worker"],
                    env={**os.environ, **env},
                    stdout=subprocess.DEVNULL,
                    stderr=(OUT / f"nodes-worker-{n}.log").open("w"),
                )
                for n in (1, 2)
            ]
            try:
                deadline = time.monotonic() + seconds
                threads = [
                    threading.Thread(
                        target=Client(bases[i % 2], target, tallies[i % 2]).run, args=(deadline,)
                    )
                    for i in range(clients)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            finally:
                for w in workers:
                    w.terminate()
                for w in workers:
                    w.wait(timeout=30)
        total = Tally()
        for tally in tallies:
            total.requests += tally.requests
            total.ok += tally.ok
            total.errors += tally.errors
            total.acked.update(tally.acked)
            for status, count in tally.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + count
        result = {
            "database": "postgresql",
            "nodes": 2,
            "gunicorn_workers_per_node": WORKERS_PER_NODE,
            "surveys_workers": 2,
            "seconds": seconds,
            "clients": clients,
            "requests": total.requests,
            "requests_per_second": round(total.requests / seconds, 1),
            "per_node_requests_per_second": [round(t.requests / seconds, 1) for t in tallies],
            "2xx": total.ok,
            "errors": total.errors,
            "statuses": {str(k): v for k, v in sorted(total.statuses.items())},
            **verify(target, total),
            "period_scores_mismatched": scores_mismatch(url),
        }
    finally:
        drop_database(url)
    (OUT / "nodes-postgresql.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    args = parser.parse_args()
    result = run(args.seconds, args.clients, args.pg_url)
    print(json.dumps(result, indent=2))
    ok = (
        result["lost"] == 0
        and result["wrong_score"] == 0
        and result["stored_not_acknowledged"] == 0
        and result["period_answers_mismatched"] == 0
        and result["period_scores_mismatched"] == 0
    )
    print("nothing lost or doubled: " + ("yes" if ok else "NO"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
