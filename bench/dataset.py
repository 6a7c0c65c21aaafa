"""Builds a large, realistic SQLite database for benchmarks: people x quarters of responses.

`python -m bench.dataset --people 250000 --quarters 4 --out bench/out/data.db` writes one
project with one survey; each person answers once per quarter (scores skewed like real NPS
data, a comment on about a third, a properties snapshot with plan and mrr). Rows go in with
sqlite3's executemany in the schema Alembic made, so the service reads them as its own.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from service import migrate
from service.db import make_engine

# Skewed towards real-world NPS shapes: many 8–10, a long tail of detractors.
SCORE_WEIGHTS = [3, 1, 1, 2, 2, 4, 5, 8, 14, 22, 38]
COMMENTS = [
    "Support took days to answer my ticket",
    "Pricing is too high for small teams",
    "The mobile app crashes when uploading photos",
    "Love how fast the dashboard loads",
    "Exports to Excel break Cyrillic — Экспорт ломает кириллицу",
    "导出功能经常失败",
    "Onboarding was confusing, =SUM(A1:A9) what?",
    'Great product, "quotes" and, commas\nand a newline',
]
PLANS = ["free", "starter", "pro", "enterprise"]
DT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Dataset:
    path: Path
    project_id: int
    survey_id: int
    secret_key: str
    people: int
    responses: int
    quarters: list[str]


def _quarter_starts(first_year: int, count: int) -> list[datetime]:
    out, year, q = [], first_year, 0
    for _ in range(count + 1):
        out.append(datetime(year, 3 * q + 1, 1))
        q += 1
        if q == 4:
            year, q = year + 1, 0
    return out


def build(path: Path, *, people: int, quarters: int, seed: int = 0) -> Dataset:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()

    from sqlalchemy.orm import Session

    from surveys.catalog import create_survey
    from surveys.projects import create_project

    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        new = create_project(session, "Bench Co")
        survey = create_survey(session, new.project.id, {"name": "Quarterly NPS"})
        session.commit()
        project_id, survey_id, secret = new.project.id, survey.id, new.keys.secret_key
    engine.dispose()

    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = datetime(2026, 1, 1).strftime(DT)
    person_rows = []
    props = []
    for i in range(people):
        p = {"plan": PLANS[i % 4], "mrr": round(rng.uniform(0, 500), 2)}
        props.append(json.dumps(p))
        person_rows.append(
            (
                i + 1,
                project_id,
                f"user-{i}",
                f"user{i}@example.com",
                f"User {i}",
                "en",
                props[-1],
                "2024-01-01 00:00:00.000000",
                now,
                now,
                0,
            )
        )
    con.executemany(
        "INSERT INTO people (id, project_id, external_id, email, name, locale, properties,"
        " created_at, added_at, updated_at, anonymous) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        person_rows,
    )
    starts = _quarter_starts(2025, quarters)
    scores = list(range(11))
    rid = 0
    for q in range(quarters):
        span = (starts[q + 1] - starts[q]).total_seconds()
        batch = []
        for i in range(people):
            rid += 1
            score = rng.choices(scores, SCORE_WEIGHTS)[0]
            when = (starts[q] + timedelta(seconds=rng.random() * span)).strftime(DT)
            comment = COMMENTS[rid % len(COMMENTS)] if rid % 3 == 0 else None
            batch.append(
                (
                    rid,
                    project_id,
                    survey_id,
                    i + 1,
                    score,
                    comment,
                    "email" if i % 2 else "widget",
                    "en",
                    0,
                    props[i],
                    when,
                    when,
                )
            )
        con.executemany(
            "INSERT INTO survey_responses (id, project_id, survey_id, person_id, score, comment,"
            " channel, locale, excluded, properties, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    # The answers went in past the per-answer upkeep, so the per-period pre-aggregate is
    # rebuilt here: a benchmark must never read a project whose figures disagree with its rows.
    from surveys import period_answers
    from surveys.models import Project

    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        period_answers.rebuild(session, session.get(Project, project_id))
        session.commit()
    engine.dispose()
    labels = [f"{s.year}-Q{(s.month - 1) // 3 + 1}" for s in starts[:-1]]
    return Dataset(path, project_id, survey_id, secret, people, rid, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/out/data.db"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    ds = build(args.out, people=args.people, quarters=args.quarters)
    print(
        f"{ds.responses:,} responses for {ds.people:,} people in {ds.quarters}"
        f" -> {ds.path} ({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
