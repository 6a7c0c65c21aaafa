"""What linking a period answer to the previous period's adds to each recorded answer.

`python -m bench.bench_link_cost [--answers 2000]`: a fresh SQLite database in a temporary
directory, `--answers` answers by a tenth as many people spread over eight quarters, each
recorded row's upkeep run as `count_answer` runs it: the period upsert (two rows, the
baseline: what an answer paid before) and the link UPDATE (the one statement added). Prints
CPU microseconds per answer of each (SQLite runs in process, so CPU time is the cost and
the machine's other load moves it less than wall time).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from service import migrate
from service.db import make_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2000)
    args = parser.parse_args()
    from surveys import period_answers
    from surveys.catalog import create_survey
    from surveys.models import Person, SurveyResponse
    from surveys.projects import create_project

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'link.db'}")
        migrate.upgrade(engine)
        rng = random.Random(3)
        with Session(engine) as session:
            project = create_project(session, "Bench Co").project
            survey = create_survey(session, project.id, {"name": "NPS"})
            people = [
                Person(project_id=project.id, external_id=f"p{i}", properties={})
                for i in range(max(1, args.answers // 10))
            ]
            session.add_all(people)
            session.flush()
            answers = []
            start = datetime(2025, 1, 1)
            for i in range(args.answers):
                answers.append(
                    SurveyResponse(
                        project_id=project.id,
                        survey_id=survey.id,
                        person_id=people[i % len(people)].id,
                        score=rng.randint(0, 10),
                        channel="api",
                        excluded=False,
                        properties={"mrr": rng.randint(1, 500)},
                        created_at=start + timedelta(days=rng.uniform(0, 720)),
                    )
                )
            session.add_all(answers)
            session.commit()
            upsert_s = link_s = 0.0
            for r in answers:
                # What `count_answer` runs, timed statement by statement.
                rows = period_answers.answer_rows("UTC", r)
                t0 = time.process_time()
                period_answers.upsert_rows(session, rows)
                t1 = time.process_time()
                period_answers.link_answer(session, "UTC", r.survey_id, r.person_id, r.created_at)
                t2 = time.process_time()
                upsert_s += t1 - t0
                link_s += t2 - t1
            session.commit()
        engine.dispose()
    n = args.answers
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {n:,} answers, SQLite, CPU per answer")
    print(f"period upsert (baseline, 2 rows)   {1e6 * upsert_s / n:8.1f} µs")
    print(f"link UPDATE (added, 1 statement)   {1e6 * link_s / n:8.1f} µs"
          f"  ratio {link_s / upsert_s:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
