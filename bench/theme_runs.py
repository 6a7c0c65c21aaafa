"""A whole theme run in the database against the bare model fit on the same texts.

`python -m bench.theme_runs --data ../shared/data --comments 100000` fills a fresh SQLite file
with that many detractor/passive comments (the labelled English, Russian and Chinese texts,
cycled), then measures in the same process:

- baseline: `ThemeModel(random_state=0).fit(texts)` alone;
- a theme run: load the comments by SQL, fit, store friction points and one assignment per
  comment, measure every point in SQL, save the model (`surveys.themes.fitting.fit_run`);
- assigning 5,000 new responses with the saved model (`surveys.themes.assignment.assign_new`)
  against `predict` alone on the same texts.

It prints each figure with its ratio to the baseline, the peak memory of the process, and
the NMI of the stored assignments against the labels (unassigned comments as one extra
cluster), so the database round trip is shown to lose nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

from sklearn.metrics import normalized_mutual_info_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml import ThemeModel, load_model
from service import migrate
from service.db import make_engine
from surveys.catalog import create_survey
from surveys.models import ThemeAssignment
from surveys.projects import create_project
from surveys.themes import runs
from surveys.themes.assignment import assign_new
from surveys.themes.fitting import fit_run

FILES = ("banking77_test.csv", "ru_city_complaints.csv", "zh_shopping_complaints.csv")
NOW = datetime(2026, 1, 1)
NEW = 5000


def read_texts(folder: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name in FILES:
        with open(folder / name, encoding="utf-8", newline="") as f:
            rows += [(r["text"], f"{name}:{r['label']}") for r in csv.DictReader(f)]
    return rows


def setup(path: Path, people: int) -> tuple[int, int]:
    """A migrated database with one project, one survey and `people` people."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        project_id = create_project(session, "bench").project.id
        survey_id = create_survey(session, project_id, {"name": "NPS"}).id
        session.commit()
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO people (id, project_id, external_id, properties, added_at, updated_at,"
            " anonymous) VALUES (?, ?, ?, '{}', ?, ?, 0)",
            [(i + 1, project_id, f"p{i}", NOW, NOW) for i in range(people)],
        )
    return project_id, survey_id


def add_comments(
    path: Path, ids: tuple[int, int], texts: list[str], people: int, rng: random.Random
) -> None:
    """Detractor and passive answers with comments, spread over the last year."""
    project_id, survey_id = ids
    rows = [
        (
            project_id,
            survey_id,
            1 + rng.randrange(people),
            rng.randint(0, 8),
            text,
            json.dumps({"mrr": rng.choice([0, 19, 49, 99, 499])}),
            (NOW - timedelta(days=rng.uniform(0, 365))).isoformat(" "),
            NOW.isoformat(" "),
        )
        for text in texts
    ]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO survey_responses (project_id, survey_id, person_id, score, comment,"
            " channel, excluded, properties, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'api', 0, ?, ?, ?)",
            rows,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/runs.db"))
    args = parser.parse_args()
    rows = read_texts(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.unlink(missing_ok=True)
    rng = random.Random(0)
    people = max(args.comments // 2, 1)
    ids = setup(args.out, people)
    texts = [rows[i % len(rows)][0] for i in range(args.comments)]
    labels = [rows[i % len(rows)][1] for i in range(args.comments)]
    add_comments(args.out, ids, texts, people, rng)

    started = time.perf_counter()
    ThemeModel(random_state=0).fit(texts)
    baseline = time.perf_counter() - started

    engine = make_engine(f"sqlite:///{args.out}")
    with Session(engine, expire_on_commit=False) as session:
        run = runs.queue_run(session, ids[0], runs.make_params(), now=NOW)
        runs.claim_run(session, "bench", now=NOW, run_id=run.id)
        session.commit()
        started = time.perf_counter()
        fit_run(session, run, now=NOW)
        session.commit()
        whole = time.perf_counter() - started
        stored = dict(
            session.execute(
                select(ThemeAssignment.response_id, ThemeAssignment.friction_point_id).where(
                    ThemeAssignment.run_id == run.id
                )
            ).all()
        )
        found = [stored.get(i + 1) or -1 for i in range(args.comments)]
        nmi = normalized_mutual_info_score(labels, found)

        new_texts = [rows[(args.comments + i) % len(rows)][0] for i in range(NEW)]
        add_comments(args.out, ids, new_texts, people, rng)
        model = load_model(io.BytesIO(run.model))
        started = time.perf_counter()
        model.predict(new_texts)
        predict_only = time.perf_counter() - started
        started = time.perf_counter()
        assigned = assign_new(session, run)
        session.commit()
        assign_time = time.perf_counter() - started
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"comments: {args.comments}; themes: {run.counts['themes']}; "
        f"unassigned share: {run.unassigned_share:.3f}"
    )
    print(f"baseline ThemeModel.fit alone: {baseline:.2f} s")
    print(
        f"theme run (SQL load + fit + store + measure + save): {whole:.2f} s "
        f"= {whole / baseline:.2f}x baseline; overhead {whole - baseline:.2f} s"
    )
    print(f"stored assignments NMI against labels: {nmi:.3f}")
    print(
        f"assign {assigned} new responses: {assign_time:.2f} s "
        f"= {assign_time / predict_only:.2f}x predict alone ({predict_only:.2f} s)"
    )
    print(f"peak memory of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
