"""Segment movement over 1,000,000 stored responses: the endpoint vs hand-written SQL.

`python -m bench.bench_movement [--db bench/out/movement_data.db]` (built by `bench.dataset`,
250,000 people x 4 quarters, when missing). Times `GET /api/v1/metrics/movement` for the last
two quarters through the Flask test client (in process: no HTTP server, no network) against
two hand-written single SQL queries on the same database in the same run, over Python's
sqlite3: the plain analyst's query (a ROW_NUMBER CTE joined to itself), and the fastest form
we know (period CASE + one GROUP BY per person, the shape the endpoint generates). Asserts all
three matrices are equal and prints medians and the ratio to the faster baseline. Also times
the weighted, series and movers calls for reference. Output is appended to
bench/out/bench_movement.txt.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from bench.nps_data import bench_arguments, conclude, open_bench_db, report, timed

SEGMENT = "CASE WHEN {s} >= 9 THEN 'promoter' WHEN {s} >= 7 THEN 'passive' ELSE 'detractor' END"

# What an analyst writes first: latest answer per person and half, the two halves joined.
PLAIN_SQL = f"""
WITH latest AS (
  SELECT person_id, created_at >= :b0 AS in_b, score,
         ROW_NUMBER() OVER (PARTITION BY person_id, created_at >= :b0
                            ORDER BY created_at DESC, id DESC) AS rn
  FROM survey_responses
  WHERE survey_id = :s AND score IS NOT NULL AND excluded = 0
    AND created_at >= :a0 AND created_at < :b1
)
SELECT {SEGMENT.format(s="a.score")}, {SEGMENT.format(s="b.score")}, COUNT(*)
FROM latest a JOIN latest b ON b.person_id = a.person_id
WHERE a.rn = 1 AND NOT a.in_b AND b.rn = 1 AND b.in_b
GROUP BY 1, 2"""

# The fastest single query we know: the period test in a CASE keeps SQLite on the covering
# (survey, person, time, score, excluded) index in person order; one GROUP BY per person
# sets the two periods side by side instead of a join.
FAST_SQL = f"""
WITH ranked AS (
  SELECT person_id, score,
         CASE WHEN created_at < :a0 THEN NULL WHEN created_at < :b0 THEN 0
              WHEN created_at < :b1 THEN 1 END AS b,
         ROW_NUMBER() OVER (PARTITION BY person_id,
                              CASE WHEN created_at < :a0 THEN NULL WHEN created_at < :b0 THEN 0
                                   WHEN created_at < :b1 THEN 1 END
                            ORDER BY created_at DESC, id DESC) AS rn
  FROM survey_responses
  WHERE survey_id = :s AND score IS NOT NULL AND excluded = 0
    AND CASE WHEN created_at < :a0 THEN NULL WHEN created_at < :b0 THEN 0
             WHEN created_at < :b1 THEN 1 END IS NOT NULL
), per_person AS (
  SELECT MAX(CASE WHEN b = 0 THEN score END) AS sa, MAX(CASE WHEN b = 1 THEN score END) AS sb
  FROM ranked WHERE rn = 1 GROUP BY person_id
)
SELECT {SEGMENT.format(s="sa")}, {SEGMENT.format(s="sb")}, COUNT(*)
FROM per_person WHERE sa IS NOT NULL AND sb IS NOT NULL GROUP BY 1, 2"""

DT = "%Y-%m-%d %H:%M:%S.%f"


def sql_matrix(con: sqlite3.Connection, sql: str, args: dict) -> dict[tuple[str, str], int]:
    return {(a, b): n for a, b, n in con.execute(sql, args)}


def api_matrix(answer: dict) -> dict[tuple[str, str], int]:
    return {
        (a, b): cell["count"]
        for a, row in answer["matrix"].items()
        for b, cell in row.items()
        if cell["count"]
    }


def main() -> None:
    args = bench_arguments(__doc__)
    bench = open_bench_db(args.db, args.people, args.quarters)
    client = bench.app.test_client()

    con = sqlite3.connect(args.db)
    (count,) = con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()
    (last,) = con.execute("SELECT MAX(created_at) FROM survey_responses").fetchone()
    from surveys.periods import period_of, previous_period

    b = period_of(datetime.strptime(last, DT), "quarter", "UTC")
    a = previous_period(b, "quarter", "UTC")
    params = {
        "s": bench.survey_id,
        "a0": a.start.strftime(DT),
        "b0": b.start.strftime(DT),
        "b1": b.end.strftime(DT),
    }
    url = f"/api/v1/metrics/movement?survey_id={bench.survey_id}&from={a.label}&to={b.label}"

    def call(query: str = ""):
        r = client.get(url + query, headers=bench.auth)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.json

    lines = [f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {count:,} responses, {a.label} -> {b.label}"]
    print(lines[0], flush=True)
    plain_s, plain_runs, plain = timed(lambda: sql_matrix(con, PLAIN_SQL, params), args.repeat)
    fast_s, fast_runs, fast = timed(lambda: sql_matrix(con, FAST_SQL, params), args.repeat)
    api_s, api_runs, answer = timed(call, args.repeat)
    assert api_matrix(answer) == plain == fast, (api_matrix(answer), plain, fast)
    baseline = min(plain_s, fast_s)
    lines.append(report("baseline: plain SQL (CTE self-join)", plain_s, plain_runs))
    lines.append(report("baseline: fast SQL (CASE + GROUP BY person)", fast_s, fast_runs))
    lines.append(report("GET /metrics/movement (test client)", api_s, api_runs, baseline))
    w_s, w_runs, _ = timed(lambda: call("&weight=property:mrr"), args.repeat)
    lines.append(report("  ... &weight=property:mrr", w_s, w_runs, baseline))
    s_s, s_runs, series = timed(lambda: call("&series=true&since=2025-01-01T00:00:00Z"), 1)
    lines.append(
        report(f"  ... &series=true ({len(series['series'])} pairs)", s_s, s_runs, baseline)
    )
    movers_url = url.replace("/metrics/movement", "/movement/people")
    m_s, m_runs, _ = timed(
        lambda: (
            client.get(
                movers_url + "&from_segment=promoter&to_segment=detractor&limit=100",
                headers=bench.auth,
            ).json
        ),
        args.repeat,
    )
    lines.append(report("GET /movement/people (first 100 movers)", m_s, m_runs, baseline))
    con.close()
    conclude(lines, args.db.parent / "bench_movement.txt", api_s, baseline, 2, 2)


if __name__ == "__main__":
    main()
