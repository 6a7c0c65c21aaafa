"""Scheduling 100,000 people for one email survey (target: under 10 s on this machine), with
a baseline measured in the same run: reading the same people rows with plain sqlite3.

    .venv/bin/python -m bench.bench_schedule [--people 100000]

The figure covers everything `flask surveys schedule` does: the GROUP BY queries for each
person's last invitation, answer and contact, sorting out in SQL who cannot be due (with the
count per reason), the pure decision for the rest (cadence, fatigue guard, sampling, spread
over working days, send window in their time zone), the idempotent inserts of the due
invitations, and the reminders.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from service import migrate
from service.db import db
from service.factory import create_app
from surveys import catalog
from surveys.clock import utcnow
from surveys.email import outbox
from surveys.models import Invitation, Person, SurveyResponse
from surveys.projects import create_project

OUT = Path(__file__).resolve().parent / "out"
ZONES = [None, "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Moscow"]


def populate(app, count: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    with app.app_context():
        session = db()
        project = create_project(session, "Bench", "Europe/Berlin").project
        survey = catalog.create_survey(
            session,
            project.id,
            {"name": "NPS", "channels": ["email"], "sample_rate": 0.8, "reminder_after_days": 7},
        )
        rows = [
            {
                "project_id": project.id,
                "external_id": f"p{i}",
                "email": None if i % 50 == 0 else f"p{i}@example.com",
                "time_zone": ZONES[i % len(ZONES)],
                "properties": {},
                "created_at": now - timedelta(days=rng.randint(0, 720)),
                "added_at": now - timedelta(days=400),
                "updated_at": now,
                "unsubscribed_at": now if i % 97 == 0 else None,
                "anonymous": False,
            }
            for i in range(count)
        ]
        for i in range(0, count, 10_000):
            session.execute(insert(Person), rows[i : i + 10_000])
        ids = list(session.scalars(select(Person.id)))
        # A history: a third were invited before, a tenth answered in the widget.
        session.execute(
            insert(Invitation),
            [
                {
                    "project_id": project.id,
                    "survey_id": survey.id,
                    "person_id": pid,
                    "channel": "email",
                    "kind": "invite",
                    "window_key": "old",
                    "status": "sent",
                    "due_at": now - timedelta(days=rng.randint(1, 200)),
                    "sent_at": now - timedelta(days=rng.randint(1, 200)),
                    "attempts": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in ids[::3]
            ],
        )
        session.execute(
            insert(SurveyResponse),
            [
                {
                    "project_id": project.id,
                    "survey_id": survey.id,
                    "person_id": pid,
                    "score": rng.randint(0, 10),
                    "channel": "widget",
                    "excluded": False,
                    "properties": {},
                    "created_at": now - timedelta(days=rng.randint(1, 120)),
                    "updated_at": now,
                }
                for pid in ids[::10]
            ],
        )
        session.commit()


def baseline(path: str) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT id, email, added_at, created_at, time_zone, unsubscribed_at, bounced_at "
            "FROM people"
        ).fetchall()
    assert rows
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{path}",
                "VAR_DIR": tmp,
                "SECRET_KEY": "bench-secret-key-not-for-production",
            }
        )
        migrate.upgrade(app.extensions["db_engine"])
        populate(app, args.people)
        base = baseline(path)
        with app.app_context():
            started = time.perf_counter()
            result = outbox.schedule_due(db(), utcnow())
            db().commit()
            elapsed = time.perf_counter() - started
            again_started = time.perf_counter()
            repeat = outbox.schedule_due(db(), utcnow())
            db().commit()
            again = time.perf_counter() - again_started
            total = db().scalar(select(func.count()).select_from(Invitation))
        app.extensions["db_engine"].dispose()
    lines = [
        f"people: {args.people:,}; invitations created: {result.created:,} "
        f"(+{result.reminders:,} reminders); not invited: {dict(sorted(result.reasons.items()))}",
        f"schedule pass: {elapsed:.2f} s ({args.people / elapsed:,.0f} people/s); "
        f"target < 10 s: {'met' if elapsed < 10 else 'MISSED'}",
        f"second pass (idempotent, created {repeat.created}): {again:.2f} s; rows now {total:,}",
        f"baseline (sqlite3 read of the people rows): {base:.2f} s; ratio {elapsed / base:.1f}x",
    ]
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_schedule.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
