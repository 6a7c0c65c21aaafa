"""Bulk answers: `POST /api/v1/responses/batch` and `flask import responses`, in answers/s.

`python -m bench.bench_bulk [--answers 100000] [--pg postgresql://...]`. Each path writes the
same answers (4 per person, over four quarters, a comment on a third, a properties snapshot)
into a fresh database: the batch through the Flask test client in process (10,000 answers a
call, JSON bodies made before the clock starts), the import from a CSV file through the CLI
command in process. The baseline, measured in the same run, is the floor of bulk writing:
the same people and answers inserted by hand with the database driver alone (sqlite3's
executemany; on PostgreSQL, COPY), with none of the service's checks, idempotency or period
answers. After each path the period answers are compared with a rebuild: a bulk path must
never leave the figures wrong. Beside the wall time, this process's CPU time: on SQLite it
holds the database's own work too (in process), and on a loaded machine it is the steadier
figure; on PostgreSQL the server's share is not in it. Output is appended to
bench/out/bench_bulk.txt.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service import migrate
from service.db import make_engine
from service.factory import create_app

SECRET = "bench-secret-key-not-for-production"
PLANS = ["free", "starter", "pro", "enterprise"]
COMMENTS = ["Support took days", "Pricing is too high", "Love the dashboard", "=SUM(A1) what?"]
START = datetime(2025, 1, 1)
BATCH = 10_000


def answers(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """The answers every path writes: four per person, one per quarter of 2025."""
    rng = random.Random(seed)
    people = max(1, count // 4)
    out = []
    for i in range(count):
        person, quarter = i % people, min(3, i // people)
        when = START + timedelta(days=91 * quarter + rng.random() * 90)
        out.append(
            {
                "external_id": f"user-{person}",
                "email": f"user{person}@example.com",
                "score": rng.choices(range(11), [3, 1, 1, 2, 2, 4, 5, 8, 14, 22, 38])[0],
                "comment": COMMENTS[i % 4] if i % 3 == 0 else None,
                "created_at": when,
                "plan": PLANS[person % 4],
                "mrr": round(rng.uniform(0, 500), 2),
                "key": f"bench-{i}",
            }
        )
    return out


class Target:
    """A fresh, migrated database with one project and survey, on SQLite or PostgreSQL."""

    def __init__(self, kind: str, pg_url: str | None, workdir: Path) -> None:
        self.kind, self.admin, self.name = kind, None, None
        if kind == "sqlite":
            path = workdir / f"bulk-{uuid.uuid4().hex[:8]}.db"
            self.url = f"sqlite:///{path}"
        else:
            base = make_url(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
            self.name = f"bulk_{uuid.uuid4().hex[:10]}"
            self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = base.set(database=self.name).render_as_string(hide_password=False)
        engine = make_engine(self.url)
        migrate.upgrade(engine)
        engine.dispose()
        self.app = create_app(
            {"DATABASE_URL": self.url, "VAR_DIR": str(workdir / "var"), "SECRET_KEY": SECRET}
        )
        from service.db import db
        from surveys.catalog import create_survey
        from surveys.projects import create_project

        with self.app.app_context():
            new = create_project(db(), "Bulk Co")
            survey = create_survey(db(), new.project.id, {"name": "NPS"})
            db().commit()
            self.project_id, self.survey_id = new.project.id, survey.id
            self.auth = {"Authorization": f"Bearer {new.keys.secret_key}"}

    def count(self) -> int:
        with self.app.app_context():
            from service.db import db

            return db().scalar(text("SELECT COUNT(*) FROM survey_responses"))

    def periods_right(self) -> bool:
        """The kept period answers, their links to the previous period included, equal a
        rebuild of them (rolled back)."""
        from service.db import db
        from surveys import period_answers
        from surveys.models import PeriodAnswer, Project

        pa = PeriodAnswer
        cols = select(
            pa.survey_id,
            pa.unit,
            pa.period,
            pa.person_id,
            pa.score,
            pa.response_id,
            pa.weight,
            pa.prev_score,
            pa.prev_weight,
            pa.rise,
        )
        with self.app.app_context():
            session: Session = db()
            kept = set(session.execute(cols).all())
            period_answers.rebuild(session, session.get(Project, self.project_id))
            again = set(session.execute(cols).all())
            session.rollback()
        return kept == again and len(kept) > 0

    def close(self) -> None:
        self.app.extensions["db_engine"].dispose()
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def run_batch(target: Target, rows: list[dict[str, Any]]) -> float:
    bodies = []
    for i in range(0, len(rows), BATCH):
        part = [
            {
                "survey_id": target.survey_id,
                "person": {"external_id": r["external_id"], "email": r["email"]},
                "score": r["score"],
                "comment": r["comment"],
                "created_at": r["created_at"].isoformat() + "Z",
                "properties": {"plan": r["plan"], "mrr": r["mrr"]},
                "idempotency_key": r["key"],
            }
            for r in rows[i : i + BATCH]
        ]
        bodies.append(json.dumps({"responses": part}))
    client = target.app.test_client()
    started = time.perf_counter()
    for body in bodies:
        r = client.post(
            "/api/v1/responses/batch",
            data=body,
            content_type="application/json",
            headers=target.auth,
        )
        assert r.status_code == 200 and r.json["failed"] == 0, r.get_data()[:500]
    return time.perf_counter() - started


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    import csv

    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["response_id", "external_id", "email", "score", "comment", "created_at",
                      "property.plan", "property.mrr"])  # fmt: skip
        for i, r in enumerate(rows):
            when = r["created_at"].isoformat() + "Z"
            out.writerow([i + 1, r["external_id"], r["email"], r["score"], r["comment"] or "",
                          when, r["plan"], r["mrr"]])  # fmt: skip


def run_import(target: Target, path: Path) -> float:
    runner = target.app.test_cli_runner()
    args = ["import", "responses", str(path), "--project", str(target.project_id)]
    args += ["--survey", str(target.survey_id), "--no-progress"]
    started = time.perf_counter()
    result = runner.invoke(args=args)
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    return seconds


def _person_rows(target: Target, rows: list[dict[str, Any]], now: datetime) -> list[tuple]:
    seen: dict[str, tuple] = {}
    for r in rows:
        seen.setdefault(
            r["external_id"],
            (target.project_id, r["external_id"], r["email"], "{}", now, now, False, True),
        )
    return list(seen.values())


def _answer_rows(target: Target, rows: list[dict[str, Any]], ids: dict[str, int], now) -> list:
    return [
        (
            target.project_id,
            target.survey_id,
            ids[r["external_id"]],
            r["score"],
            r["comment"],
            "api",
            False,
            json.dumps({"plan": r["plan"], "mrr": r["mrr"]}),
            r["key"],
            r["created_at"],
            now,
        )  # fmt: skip
        for r in rows
    ]


PEOPLE_COLUMNS = (
    "project_id, external_id, email, properties, added_at, updated_at, anonymous, trusted"
)
ANSWER_COLUMNS = (
    "project_id, survey_id, person_id, score, comment, channel, excluded, properties,"
    " idempotency_key, created_at, updated_at"
)


def run_baseline(target: Target, rows: list[dict[str, Any]]) -> float:
    """The same people and answers written with the driver alone."""
    now = datetime(2026, 1, 1)
    if target.kind == "sqlite":
        con = sqlite3.connect(target.url.removeprefix("sqlite:///"))
        con.execute("PRAGMA journal_mode=WAL")
        started = time.perf_counter()
        people = [tuple(str(v) if isinstance(v, datetime) else v for v in p)
                  for p in _person_rows(target, rows, now)]  # fmt: skip
        con.executemany(f"INSERT INTO people ({PEOPLE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", people)
        ids = dict(con.execute("SELECT external_id, id FROM people"))
        answers_in = [tuple(str(v) if isinstance(v, datetime) else v for v in a)
                      for a in _answer_rows(target, rows, ids, now)]  # fmt: skip
        con.executemany(
            f"INSERT INTO survey_responses ({ANSWER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            answers_in,
        )
        con.commit()
        seconds = time.perf_counter() - started
        con.close()
        return seconds
    import psycopg

    with psycopg.connect(target.url.replace("postgresql+psycopg://", "postgresql://")) as con:
        started = time.perf_counter()
        with con.cursor() as cur:
            with cur.copy(f"COPY people ({PEOPLE_COLUMNS}) FROM STDIN") as copy:
                for p in _person_rows(target, rows, now):
                    copy.write_row(p)
            cur.execute("SELECT external_id, id FROM people")
            ids = dict(cur.fetchall())
            with cur.copy(f"COPY survey_responses ({ANSWER_COLUMNS}) FROM STDIN") as copy:
                for a in _answer_rows(target, rows, ids, now):
                    copy.write_row(a)
        con.commit()
        return time.perf_counter() - started


def measure(kind: str, pg_url: str | None, rows, csv_path: Path, workdir: Path) -> list[str]:
    lines = []
    figures = {}
    for name, run in (
        ("baseline (driver only)", run_baseline),
        ("batch API (in process)", run_batch),
        ("CLI import", lambda t, r: run_import(t, csv_path)),
    ):
        target = Target(kind, pg_url, workdir)
        try:
            cpu = time.process_time()
            seconds = run(target, rows)
            cpu = time.process_time() - cpu
            assert target.count() == len(rows)
            right = "" if name.startswith("baseline") else (
                "  period answers = rebuild" if target.periods_right() else "  PERIOD ANSWERS WRONG"
            )  # fmt: skip
            if right.endswith("WRONG"):
                raise SystemExit(f"{kind} {name}: period answers disagree with a rebuild")
        finally:
            target.close()
        figures[name] = len(rows) / seconds
        ratio = figures[name] / figures["baseline (driver only)"]
        line = (
            f"{kind:<10} {name:<24} {len(rows):>9,} answers in {seconds:6.2f} s "
            f"= {figures[name]:>9,.0f} answers/s  ratio {ratio:.2f}x  "
            f"CPU {cpu:6.2f} s = {len(rows) / cpu:>8,.0f} answers/CPU-s{right}"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL server URL for the same run there (optional)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_bulk.txt"))
    args = parser.parse_args()
    rows = answers(args.answers)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "answers.csv"
        write_csv(rows, csv_path)
        lines = [f"bench_bulk {datetime.now():%Y-%m-%d %H:%M} --answers {args.answers}"]
        lines += measure("sqlite", None, rows, csv_path, workdir)
        if args.pg:
            lines += measure("postgresql", args.pg, rows, csv_path, workdir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
