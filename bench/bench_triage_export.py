"""Triage export benchmark: the responses export with its triage columns (tags, notes and the
follow-up's status, owner, due time and reason) against the same export without them.

Both run in the same process on the same SQLite file, one after the other and then in the
other order, each through the export's own path: `export_statement` on a server-side stream
(`stream_rows`) into the CSV writer (`csv_chunks`), bytes thrown away. The dataset is
`bench.dataset` (people x 4 quarters) plus triage on a realistic share of it: ten tags, one or
two tags on every fifth response, a note on one in twenty, a follow-up on every detractor
(an owner on half, a resolved reason on a third). Printed: rows/s of both, the ratio (with
triage / without; target >= 0.7) and the time to the first batch of rows of each.

    .venv/bin/python -m bench.bench_triage_export [--people 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from pathlib import Path

from bench.dataset import build
from service.db import make_engine
from surveys.export.formats import csv_chunks
from surveys.export.responses import ExportPlan, export_statement, stream_rows
from surveys.response_filters import ResponseFilters

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def add_triage(path: Path, project_id: int, seed: int = 1) -> dict[str, int]:
    """Tags, notes, members and follow-ups straight into the file, as the dataset's rows."""
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    now = "2026-01-01 00:00:00.000000"
    con.executemany(
        "INSERT INTO users (id, email, session_version, created_at, updated_at) VALUES (?,?,1,?,?)",
        [(i, f"cx{i}@bench.test", now, now) for i in (1, 2, 3)],
    )
    con.executemany(
        "INSERT INTO memberships (user_id, project_id, role, created_at) VALUES (?,?,?,?)",
        [(i, project_id, "editor", now) for i in (1, 2, 3)],
    )
    con.executemany(
        "INSERT INTO tags (id, project_id, name, created_at) VALUES (?,?,?,?)",
        [(i, project_id, f"tag {i}", now) for i in range(1, 11)],
    )
    rows = con.execute("SELECT id, score, created_at FROM survey_responses").fetchall()
    tags, notes, follow = [], [], []
    for rid, score, created in rows:
        if rid % 5 == 0:
            for tag in rng.sample(range(1, 11), rng.choice((1, 2))):
                tags.append((rid, tag, now))
        if rid % 20 == 0:
            notes.append((project_id, rid, rng.choice((1, 2, 3)), "Called back, =left a message"))
        if score is not None and score <= 6:
            resolved = rid % 3 == 0
            follow.append(
                (
                    rid,
                    project_id,
                    "resolved" if resolved else "new",
                    rng.choice((1, 2, 3)) if rid % 2 else None,
                    "Refunded" if resolved else None,
                    created,
                    "auto",
                    created,
                    created if resolved else None,
                    created,
                )
            )
    con.executemany(
        "INSERT INTO response_tags (response_id, tag_id, created_at) VALUES (?,?,?)", tags
    )
    con.executemany(
        "INSERT INTO notes (project_id, response_id, author_id, text, created_at)"
        f" VALUES (?,?,?,?,'{now}')",
        notes,
    )
    con.executemany(
        "INSERT INTO follow_ups (response_id, project_id, status, owner_id, reason, due_at,"
        " source, opened_at, resolved_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        follow,
    )
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return {"tags": len(tags), "notes": len(notes), "follow_ups": len(follow)}


def run(engine, project_id: int, triage: bool) -> dict[str, float]:
    statement_columns, statement = export_statement(
        project_id,
        ResponseFilters(),
        dialect="sqlite",
        run_id=None,
        pii=True,
        defang=True,
        properties=[],
        triage=triage,
    )
    plan = ExportPlan(statement_columns, statement, "bench", True)
    rows = 0
    t0 = time.perf_counter()
    first = None
    with engine.connect() as conn:

        def counted():
            nonlocal rows
            nonlocal first
            for batch in stream_rows(conn, plan):
                if first is None:
                    first = time.perf_counter() - t0
                rows += len(batch)
                yield batch

        for _chunk in csv_chunks(plan.columns, counted(), defanged=True):
            pass
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "first_s": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"triage_export_{args.people}.db"
    t0 = time.perf_counter()
    ds = build(path, people=args.people, quarters=4)
    counts = add_triage(path, ds.project_id)
    print(f"built {ds.responses:,} responses, {counts} in {time.perf_counter() - t0:.0f} s")
    engine = make_engine(f"sqlite:///{path}")
    results: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    for i in range(args.repeat):
        order = (False, True) if i % 2 == 0 else (True, False)
        for triage in order:
            results["with" if triage else "without"].append(run(engine, ds.project_id, triage))
    engine.dispose()
    best = {k: max(v, key=lambda r: r["rows_per_s"]) for k, v in results.items()}
    ratio = best["with"]["rows_per_s"] / best["without"]["rows_per_s"]
    for k in ("without", "with"):
        b = best[k]
        print(
            f"export {k} triage columns: {b['rows']:,} rows in {b['seconds']:.2f} s = "
            f"{b['rows_per_s']:,.0f} rows/s; first row batch after {b['first_s'] * 1000:.0f} ms"
        )
    print(f"ratio with / without triage columns: {ratio:.2f} (target >= 0.7)")
    (OUT / "bench_triage_export.json").write_text(
        json.dumps({"counts": counts, "best": best, "ratio": ratio, "runs": results}, indent=1)
    )


if __name__ == "__main__":
    main()
