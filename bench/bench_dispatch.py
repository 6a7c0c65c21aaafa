"""Dispatch throughput to a local SMTP sink vs a plain smtplib loop sending the same
prepared messages over one connection, in the same run; ratio target >= 0.7.

    .venv/bin/python -m bench.bench_dispatch [--messages 2000] [--rounds 2]

The sink is aiosmtpd's `Sink` handler in its own process. The dispatcher's figure includes
everything it does per message: claiming batches, filling the rendered email in for each
person, signing links, the SMTP conversation over its reused connection, and one commit per
message (SQLite, WAL) marking it in flight with the previous message's result. The baseline
sends the same prepared messages with `smtplib.SMTP.sendmail`.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import insert, select, update

from service.db import db
from service.factory import create_app
from service.worker.dispatch import compose, dispatch
from surveys import catalog
from surveys.clock import utcnow
from surveys.email import outbox
from surveys.models import Invitation, Person, Survey
from surveys.projects import create_project

OUT = Path(__file__).resolve().parent / "out"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
        + ["-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("SMTP sink did not start")


def setup(app, messages: int) -> None:
    with app.app_context():
        session = db()
        project = create_project(session, "Bench").project
        survey = catalog.create_survey(
            session, project.id, {"name": "NPS", "product_name": "Acme", "channels": ["email"]}
        )
        now = utcnow()
        session.execute(
            insert(Person),
            [
                {
                    "project_id": project.id,
                    "external_id": f"p{i}",
                    "email": f"p{i}@example.com",
                    "name": f"Person {i}",
                    "locale": ("en", "ru", "zh")[i % 3],
                    "properties": {},
                    "added_at": now,
                    "updated_at": now,
                    "anonymous": False,
                }
                for i in range(messages)
            ],
        )
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        outbox.invite_now(session, project, survey.id, ids, now)
        session.commit()


def reset(app) -> None:
    with app.app_context():
        db().execute(
            update(Invitation).values(
                status="scheduled", sent_at=None, attempts=0, claimed_by=None, lease_until=None
            )
        )
        db().commit()


def prepared_messages(app) -> list[tuple[str, str, bytes]]:
    settings = app.config["FLYWHEEL"]
    sender = parseaddr(settings.mail_from)[1]
    with app.app_context():
        session = db()
        out = []
        for invitation in session.scalars(select(Invitation).order_by(Invitation.id)):
            person = session.get(Person, invitation.person_id)
            survey = session.get(Survey, invitation.survey_id)
            message, _ = compose(settings, invitation, person, survey)
            out.append((sender, person.email, message))
        return out


def baseline(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        for sender, recipient, body in messages:
            conn.sendmail(sender, [recipient], body)
    return len(messages) / (time.perf_counter() - started)


def flywheel(app, count: int) -> float:
    with app.app_context():
        clock = lambda: utcnow() + timedelta(seconds=1)  # noqa: E731
        started = time.perf_counter()
        result = dispatch(db(), app.config["FLYWHEEL"], clock=clock)
        elapsed = time.perf_counter() - started
    assert result.sent == count, result
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    sink = start_sink(port)
    lines = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(
                {
                    "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                    "VAR_DIR": tmp,
                    "SECRET_KEY": "bench-secret-key-not-for-production",
                    "SMTP_URL": f"smtp://127.0.0.1:{port}",
                }
            )
            from service import migrate

            migrate.upgrade(app.extensions["db_engine"])
            setup(app, args.messages)
            prepared = prepared_messages(app)
            best_base = best_fly = 0.0
            for round_no in range(1, args.rounds + 1):
                base = baseline(port, prepared)
                reset(app)
                fly = flywheel(app, args.messages)
                reset(app)
                best_base, best_fly = max(best_base, base), max(best_fly, fly)
                lines.append(
                    f"round {round_no}: smtplib loop {base:,.0f} msg/s, "
                    f"flywheel dispatch {fly:,.0f} msg/s, ratio {fly / base:.2f}"
                )
                print(lines[-1], flush=True)
            app.extensions["db_engine"].dispose()
    finally:
        sink.terminate()
        sink.wait(10)
    lines.append(
        f"best of {args.rounds}: smtplib loop {best_base:,.0f} msg/s; flywheel dispatch "
        f"{best_fly:,.0f} msg/s; ratio {best_fly / best_base:.2f} (target >= 0.7); "
        f"{args.messages} messages"
    )
    print(lines[-1])
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_dispatch.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
