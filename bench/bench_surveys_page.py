"""The team app's surveys list over 1,000,000 invitations (5 surveys x 200,000; target: under
300 ms a page), with baselines measured in the same run: the same five surveys' counts
counted from the invitations themselves (what the page did before the counters), and the
API's invitation stats (`GET /api/v1/surveys/{id}/invitations/stats`, the same reading).

    .venv/bin/python -m bench.bench_surveys_page [--invitations 1000000]
        [--database-url URL | --pg SERVER_URL]

`--pg` makes a fresh PostgreSQL database named `surveys_bench_<random>` on that server and
drops it afterwards. Before timing, the counters kept by the triggers while the invitations
were inserted are compared with a count of the rows: they must be equal.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.team_app import signed_in
from service import migrate
from service.db import db
from service.factory import create_app
from surveys import catalog
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member, set_password
from surveys.clock import utcnow
from surveys.email import invitation_counts
from surveys.models import Invitation, Person
from surveys.projects import create_project

SURVEYS = 5
PASSWORD = "bench passphrase long enough"
STATUSES = ("sent",) * 7 + ("failed", "scheduled", "cancelled")


def populate(app, invitations: int) -> tuple[str, list[int]]:
    people = invitations // SURVEYS
    now = utcnow()
    with app.app_context():
        session = db()
        new = create_project(session, "Bench")
        project = new.project
        survey_ids = [
            catalog.create_survey(session, project.id, {"name": f"NPS {n}"}).id
            for n in range(SURVEYS)
        ]
        user = add_member(session, project.id, "owner@bench.test", Role.OWNER).user
        set_password(session, user, PASSWORD)
        session.commit()
        for start in range(0, people, 20_000):
            batch = range(start, min(start + 20_000, people))
            session.execute(
                insert(Person),
                [{"project_id": project.id, "email": f"p{i}@example.com"} for i in batch],
            )
        session.commit()
        first = session.query(Person.id).order_by(Person.id).first()[0]
        for survey_id in survey_ids:
            for start in range(0, people, 20_000):
                rows = [
                    {
                        "project_id": project.id,
                        "survey_id": survey_id,
                        "person_id": first + i,
                        "channel": "email",
                        "kind": "invite",
                        "window_key": "2026Q1",
                        "status": STATUSES[i % len(STATUSES)],
                        "error": "bounce: 550" if i % 20 == 7 else None,
                        "due_at": now - timedelta(days=3),
                        "responded_at": now if i % 3 == 0 else None,
                    }
                    for i in range(start, min(start + 20_000, people))
                ]
                session.execute(insert(Invitation), rows)
            session.commit()
        return new.keys.secret_key, survey_ids


def timed(call, runs: int) -> float:
    call()  # warm: templates, statements, the database's cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextmanager
def pg_database(server_url: str):
    """A fresh database `surveys_bench_<random>` on the server, dropped afterwards."""
    base = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"surveys_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, tmp: str, invitations: int, runs: int) -> None:
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "VAR_DIR": tmp,
            "PUBLIC_URL": "http://flywheel.test",
        }
    )
    migrate.upgrade(app.extensions["db_engine"])
    started = time.perf_counter()
    secret_key, survey_ids = populate(app, invitations)
    took = time.perf_counter() - started
    print(f"populated {invitations:,} invitations in {took:.0f} s")
    with app.app_context():
        kept = invitation_counts.read(db(), survey_ids)
        assert kept == invitation_counts.count(db(), survey_ids), "counters disagree"

    client = signed_in(app, "owner@bench.test", PASSWORD)
    headers = {"Authorization": f"Bearer {secret_key}"}

    def page() -> None:
        r = client.get("/app/surveys")
        assert r.status_code == 200 and b'data-metric="sent"' in r.data

    def api() -> None:
        for survey_id in survey_ids:
            r = client.get(f"/api/v1/surveys/{survey_id}/invitations/stats", headers=headers)
            assert r.status_code == 200

    def counted() -> None:
        with app.app_context():
            invitation_counts.count(db(), survey_ids)
            db().rollback()

    page_s = timed(page, runs)
    api_s = timed(api, runs)
    rows_s = timed(counted, runs)
    dialect = url.split(":", 1)[0]
    print(
        f"{dialect}: GET /app/surveys {1000 * page_s:.1f} ms (target: under 300 ms); "
        f"baseline, the {SURVEYS} surveys' counts counted from the invitations "
        f"{1000 * rows_s:.0f} ms, ratio {page_s / rows_s:.3f}; "
        f"the API's stats of the {SURVEYS} surveys {1000 * api_s:.1f} ms"
    )
    app.extensions["db_engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invitations", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--pg", help="PostgreSQL server URL: a fresh surveys_bench_* database")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            with pg_database(args.pg) as url:
                run(url, tmp, args.invitations, args.runs)
        else:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            run(url, tmp, args.invitations, args.runs)


if __name__ == "__main__":
    main()
