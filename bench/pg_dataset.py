"""Builds a large PostgreSQL benchmark database set-based: people x quarters of responses.

`python -m bench.pg_dataset --people 250000 --quarters 4 --url postgresql://...` makes one
project with one survey through the domain functions, then writes the people and their
answers with `INSERT ... SELECT` over `generate_series` (one statement each, the server doing
the work: 10M answers in minutes, where row-by-row inserts from Python would take hours),
with the same shapes as `bench.dataset` (scores skewed like real NPS data, a comment on a
third, a plan and mrr snapshot). The period answers are then rebuilt as the worker does
after a bulk write, so the pre-aggregate holds, and the tables are analysed.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from sqlalchemy import make_url, select, text
from sqlalchemy.orm import Session

from bench.dataset import COMMENTS, SCORE_WEIGHTS
from service import migrate
from service.db import make_engine


@dataclass(frozen=True)
class PgDataset:
    url: str
    project_id: int
    survey_id: int
    responses: int


def _score_case() -> str:
    """CASE turning a uniform r in [0, 1) into a score drawn with SCORE_WEIGHTS."""
    total, edge, whens = sum(SCORE_WEIGHTS), 0, []
    for score, weight in enumerate(SCORE_WEIGHTS[:-1]):
        edge += weight
        whens.append(f"WHEN r < {edge / total!r} THEN {score}")
    return f"CASE {' '.join(whens)} ELSE 10 END"


def ensure_database(url: str) -> None:
    """Create the URL's database on its server when it is missing."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        found = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not found:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def existing(url: str) -> PgDataset | None:
    """The dataset already in the database, if one was built there."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT project_id, id FROM surveys ORDER BY id LIMIT 1")
            ).first()
            if row is None:
                return None
            count = conn.scalar(text("SELECT count(*) FROM survey_responses"))
    except Exception:  # noqa: BLE001 (no schema yet)
        return None
    finally:
        engine.dispose()
    return PgDataset(url, row[0], row[1], count) if count else None


def write_period_answers(session: Session, project_id: int) -> None:
    """The period answers of every answer of the project, and their `period_scores`.

    The worker's rebuild (`period_answers.rebuild`) ranks every answer through a CASE of
    period bounds: minutes at 10M. The project is in UTC, so here the labels come from to_char
    and each (survey, period, person) keeps its latest answer by DISTINCT ON, the same rows
    (bench_growth checks NPS against the answers themselves). `period_scores` is kept by the
    table's statement trigger (revision 0020): one GROUP BY per INSERT."""
    from surveys import period_answers
    from surveys.models import PeriodAnswer, Survey

    for unit, label in (("quarter", 'YYYY-"Q"Q'), ("month", "YYYY-MM")):
        session.execute(
            text(
                f"""
                INSERT INTO period_answers
                  (survey_id, unit, period, person_id, score, created_at, response_id, weight)
                SELECT DISTINCT ON (survey_id, person_id, to_char(created_at, '{label}'))
                       survey_id, '{unit}', to_char(created_at, '{label}'), person_id,
                       score, created_at, id,
                       CASE WHEN json_typeof(properties -> '{period_answers.KEPT_WEIGHT}')
                                 = 'number'
                            THEN (properties ->> '{period_answers.KEPT_WEIGHT}')::float
                       END
                FROM survey_responses
                WHERE project_id = :p AND survey_id IS NOT NULL AND score IS NOT NULL
                  AND NOT excluded
                ORDER BY survey_id, person_id, to_char(created_at, '{label}'),
                         created_at DESC, id DESC
                """
            ),
            {"p": project_id},
        )
    # Each row linked to its person's row in the previous period, as the upkeep does; with
    # the table's statistics first: planned as empty, each row's seek of its previous row
    # becomes a scan of the table. The trigger nets each row's old and new score: linking
    # leaves `period_scores` alone.
    session.execute(text("ANALYZE period_answers"))
    surveys_of_project = select(Survey.id).where(Survey.project_id == project_id)
    for unit in ("quarter", "month"):
        labels = list(
            session.scalars(
                select(PeriodAnswer.period)
                .where(PeriodAnswer.survey_id.in_(surveys_of_project), PeriodAnswer.unit == unit)
                .distinct()
            )
        )
        period_answers.link(
            session, "UTC", unit, labels, PeriodAnswer.survey_id.in_(surveys_of_project)
        )


def build(url: str, *, people: int, quarters: int, seed: float = 0.42) -> PgDataset:
    ensure_database(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    from surveys.catalog import create_survey
    from surveys.models import Project
    from surveys.projects import create_project

    with Session(engine) as session:
        for table in (
            "period_scores",
            "period_answers",
            "survey_responses",
            "people",
            "surveys",
            "projects",
            "users",
        ):
            session.execute(text(f"TRUNCATE {table} CASCADE"))
        new = create_project(session, "Bench Co")
        survey = create_survey(session, new.project.id, {"name": "Quarterly NPS"})
        session.commit()
        project_id, survey_id = new.project.id, survey.id

        started = time.perf_counter()
        session.execute(text("SELECT setseed(:s)"), {"s": seed})
        session.execute(
            text(
                """
                INSERT INTO people (project_id, external_id, email, name, locale, properties,
                                    created_at, added_at, updated_at, anonymous, trusted)
                SELECT :p, 'user-' || g, 'user' || g || '@example.com', 'User ' || g, 'en',
                       json_build_object(
                         'plan', (ARRAY['free', 'starter', 'pro', 'enterprise'])[1 + g % 4],
                         'mrr', round((random() * 500)::numeric, 2)),
                       TIMESTAMP '2024-01-01', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01',
                       false, true
                FROM generate_series(0, :n - 1) AS g
                """
            ),
            {"p": project_id, "n": people},
        )
        comments = "ARRAY[" + ", ".join("'" + c.replace("'", "''") + "'" for c in COMMENTS) + "]"
        session.execute(
            text(
                f"""
                INSERT INTO survey_responses (project_id, survey_id, person_id, score, comment,
                    channel, locale, excluded, properties, created_at, updated_at)
                SELECT :p, :s, pe.id, {_score_case()},
                       CASE WHEN (pe.id + q) % 3 = 0
                            THEN ({comments})[1 + (pe.id + q) % {len(COMMENTS)}] END,
                       CASE WHEN pe.id % 2 = 1 THEN 'email' ELSE 'widget' END, 'en', false,
                       pe.properties, at, at
                FROM people AS pe
                CROSS JOIN generate_series(0, :quarters - 1) AS q
                CROSS JOIN LATERAL (
                  -- pe.id * 0 ties the draw to the row: otherwise it runs once per quarter.
                  SELECT TIMESTAMP '2025-01-01' + make_interval(months => 3 * q)
                         + (random() + pe.id * 0) * INTERVAL '90 days' AS at,
                         random() + pe.id * 0 AS r
                ) AS drawn
                WHERE pe.project_id = :p
                """
            ),
            {"p": project_id, "s": survey_id, "quarters": quarters},
        )
        session.commit()
        written = time.perf_counter() - started
        print(f"  {people * quarters:,} answers written in {written:.1f} s", flush=True)
        started = time.perf_counter()
        write_period_answers(session, project_id)
        project = session.get(Project, project_id)
        project.periods_zone = project.time_zone
        session.commit()
        print(f"  period answers written in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return PgDataset(url, project_id, survey_id, people * quarters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--quarters", type=int, default=4)
    args = parser.parse_args()
    started = time.perf_counter()
    built = build(args.url, people=args.people, quarters=args.quarters)
    print(f"{built.responses:,} responses in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
