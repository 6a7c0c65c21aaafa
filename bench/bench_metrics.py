"""NPS per quarter over 1,000,000 stored responses: the endpoint vs one hand-written SQL query.

`python -m bench.bench_metrics [--db bench/out/movement_data.db]` (built by `bench.dataset`,
250,000 people x 4 quarters, when missing). Times `GET /api/v1/metrics/nps?group_by=quarter`
through the Flask test client (in process: no HTTP server, no network) against one
hand-written SQL query over Python's sqlite3 giving the same per-quarter counts (each person's
latest non-excluded scored answer per quarter, ROW_NUMBER), on the same database in the same
run. Asserts the counts are equal and prints medians and the ratio, and the app's first call
(cold). The endpoint reads the pre-aggregates (`period_scores`, `period_answers`), the
baseline ranks the answers. Output is appended to
bench/out/bench_metrics.txt.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from bench.nps_data import bench_arguments, conclude, open_bench_db, report, timed

DT = "%Y-%m-%d %H:%M:%S.%f"


def hand_sql(bounds: list[datetime]) -> tuple[str, dict]:
    """Quarter i holds answers before bounds[i + 1] (and from bounds[0])."""
    whens = " ".join(f"WHEN created_at < :e{i} THEN {i}" for i in range(1, len(bounds)))
    bucket = f"CASE {whens} END"
    sql = f"""
    SELECT q, COUNT(*),
           SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END),
           SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END),
           SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)
    FROM (
      SELECT {bucket} AS q, score,
             ROW_NUMBER() OVER (PARTITION BY {bucket}, person_id
                                ORDER BY created_at DESC, id DESC) AS rn
      FROM survey_responses
      WHERE project_id = :p AND score IS NOT NULL AND excluded = 0 AND created_at >= :e0
    ) WHERE rn = 1 GROUP BY q ORDER BY q"""
    return sql, {f"e{i}": b.strftime(DT) for i, b in enumerate(bounds)}


def main() -> None:
    args = bench_arguments(__doc__)
    bench = open_bench_db(args.db, args.people, args.quarters)
    client = bench.app.test_client()

    from surveys.periods import periods_between

    con = sqlite3.connect(args.db)
    count, first, last = con.execute(
        "SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM survey_responses"
    ).fetchone()
    periods = periods_between(
        datetime.strptime(first, DT), datetime.strptime(last, DT), "quarter", "UTC"
    )
    sql, params = hand_sql([periods[0].start, *(p.end for p in periods)])
    params["p"] = bench.project_id

    def hand():
        return [tuple(row[1:]) for row in con.execute(sql, params)]

    def call():
        r = client.get("/api/v1/metrics/nps?group_by=quarter", headers=bench.auth)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.json

    lines = [f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {count:,} responses, {len(periods)} quarters"]
    print(lines[0], flush=True)
    sql_s, sql_runs, expected = timed(hand, args.repeat)
    started = time.perf_counter()
    call()  # cold: the app's first request (statements compiled, connection opened)
    cold_s = time.perf_counter() - started
    api_s, api_runs, answer = timed(call, args.repeat)
    got = [
        (b["responses"], b["promoters"], b["passives"], b["detractors"]) for b in answer["buckets"]
    ]
    assert got == expected, (got, expected)
    lines.append(report("baseline: hand-written SQL (ROW_NUMBER)", sql_s, sql_runs))
    lines.append(report("GET /metrics/nps?group_by=quarter (client)", api_s, api_runs, sql_s))
    lines.append(report("  ... cold (the app's first request)", cold_s, [cold_s], sql_s))
    # CPU seconds of this process (SQLite runs in it): what a loaded machine moves far less
    # than wall-clock time.
    cpu = time.process_time()
    hand()
    hand_cpu = time.process_time() - cpu
    cpu = time.process_time()
    call()
    api_cpu = time.process_time() - cpu
    line = f"CPU seconds, one warm call: hand-written SQL {hand_cpu:.3f}, endpoint {api_cpu:.3f}"
    print(line, flush=True)
    lines.append(line)
    con.close()
    conclude(lines, args.db.parent / "bench_metrics.txt", api_s, sql_s, 1.5, 1)


if __name__ == "__main__":
    main()
