"""The email outbox under faults: a dispatcher killed mid-batch, and two schedulers and two
dispatchers at once. No message may be sent twice for one invitation, and a killed dispatcher
may leave only the message it was sending `uncertain`.

    python -m bench.reliability.mail_faults --db sqlite --people 400      # kill mid-batch
    python -m bench.reliability.mail_faults --db postgresql --concurrent  # 2 + 2 at once

A local SMTP server (aiosmtpd, in this process) counts what it receives per recipient; each
person has one invitation, so a recipient seen twice is a message sent twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.http_load import free_port
from bench.reliability.setup import OUT, drop_database, fresh_database, seed
from service.db import db, make_engine
from service.factory import create_app
from service.worker.dispatch import LEASE, dispatch
from surveys.catalog import update_survey
from surveys.clock import utcnow
from surveys.models import Invitation
from surveys.people import upsert_people

ROOT = Path(__file__).resolve().parents[2]


class CountingSink:
    """Accepts every message after a short delay (a real server takes time), counting each
    recipient."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(self.delay)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received[rcpt] += 1
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


def prepare(kind: str, people: int) -> tuple[str, int]:
    url = fresh_database(kind, f"mail_{kind}")
    target = seed(url, kind)
    engine = make_engine(url)
    with Session(engine) as session:
        update_survey(
            session,
            target.project_id,
            target.survey_id,
            {"channels": ["email"], "spread_days": 0, "send_window": None},
        )
        rows = [
            (
                i,
                {
                    "external_id": f"m{i}",
                    "email": f"person{i}@example.test",
                    "created_at": utcnow() - timedelta(days=400),
                },
            )
            for i in range(people)
        ]
        upsert_people(session, target.project_id, rows)
        session.commit()
    engine.dispose()
    return url, target.project_id


def flask(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def statuses(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(Invitation.status, func.count()).group_by(Invitation.status)
        ).all()
    engine.dispose()
    return dict(rows)


def run(kind: str, people: int, concurrent: bool) -> dict:
    url, _project = prepare(kind, people)
    sink = CountingSink(delay=0.01)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        "DATABASE_URL": url,
        "VAR_DIR": str(OUT / "var"),
        "SECRET_KEY": "reliability-secret-key-not-for-production",
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
    }
    result: dict = {"database": kind, "people": people}
    try:
        schedulers = [flask(["surveys", "schedule"], env) for _ in range(2 if concurrent else 1)]
        for proc in schedulers:
            proc.communicate(timeout=300)
        result["schedulers"] = len(schedulers)
        result["invitations_created"] = sum(statuses(url).values())

        if concurrent:
            dispatchers = [flask(["surveys", "dispatch", "--once"], env) for _ in range(2)]
            outputs = [proc.communicate(timeout=600)[0] for proc in dispatchers]
            result["dispatchers"] = 2
            # Both took a share of the work: they ran at once, not one after the other.
            result["sent_by_each_dispatcher"] = [
                int(m.group(1)) if (m := re.search(r"sent (\d+)", out)) else None for out in outputs
            ]
            result["killed"] = 0
        else:
            victim = flask(["surveys", "dispatch", "--once"], env)
            deadline = time.monotonic() + 300
            # Mid-batch: past a batch boundary and between two commit groups.
            while sink.total() < people * 2 // 5 + 7 and time.monotonic() < deadline:
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=30)
            result["killed"] = 1
            result["received_before_kill"] = sink.total()
            result["statuses_after_kill"] = statuses(url)
            # The restarted dispatcher sends what was never claimed ...
            flask(["surveys", "dispatch", "--once"], env).communicate(timeout=600)
            # ... and once the dead one's lease has run out, the message it was sending turns
            # `uncertain` and the rest of its batch, never tried, is sent.
            app = create_app(env)
            # The app turns on INFO logging; the SMTP server in this process would log each line.
            logging.getLogger("mail.log").setLevel(logging.WARNING)
            with app.app_context():
                later = utcnow() + LEASE + timedelta(minutes=1)
                again = dispatch(db(), app.config["FLYWHEEL"], clock=lambda: later)
            app.extensions["db_engine"].dispose()
            result["sent_after_lease_expiry"] = again.sent
            result["expired_to_uncertain"] = again.expired
            result["claims_given_back"] = again.released
    finally:
        controller.stop()
    final = statuses(url)
    drop_database(url)
    twice = {r: n for r, n in sink.received.items() if n > 1}
    result.update(
        {
            "statuses": final,
            "messages_received": sink.total(),
            "recipients_received_twice": len(twice),
            "ended_sent_failed_or_uncertain": sum(
                final.get(s, 0) for s in ("sent", "failed", "uncertain")
            ),
            "sent_in_db": final.get("sent", 0),
        }
    )
    name = f"mail-{kind}-{'concurrent' if concurrent else 'kill'}"
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--concurrent", action="store_true")
    args = parser.parse_args()
    result = run(args.db, args.people, args.concurrent)
    print(json.dumps(result, indent=2))
    problems = []
    if result["recipients_received_twice"]:
        problems.append("a message was sent twice")
    if result["invitations_created"] != args.people:
        problems.append("duplicate or missing invitations")
    if result["ended_sent_failed_or_uncertain"] != args.people:
        problems.append("invitations left unfinished")
    if result["messages_received"] < result["sent_in_db"]:
        problems.append("an invitation marked sent was never received")
    if result["statuses"].get("uncertain", 0) > result["killed"]:
        problems.append("more than the message in flight turned uncertain")
    if problems:
        raise SystemExit("; ".join(problems))


if __name__ == "__main__":
    main()
