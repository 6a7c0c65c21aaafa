"""Load with and without killed gunicorn workers: every acknowledged answer must be stored.

    python -m bench.reliability.load --db sqlite --seconds 60 --clients 64 [--kill-every 5]

64 client threads send, for the whole run, a mix of API responses (each with its own
Idempotency-Key) and complete widget flows (visit, then score). Every 2xx that acknowledges an
answer is remembered; afterwards the database must hold exactly those answers (plus, when
workers are killed, at most the in-flight ones that were stored but never acknowledged), and
pass its integrity check. Loopback only; bounded by --seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.http_load import gunicorn
from bench.reliability.setup import OUT, Target, drop_database, fresh_database, seed
from service.db import make_engine
from surveys import period_answers
from surveys.models import PeriodAnswer, Project, Survey

WORKERS = 4


@dataclass
class Tally:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    connection_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    acked: dict[int, int] = field(default_factory=dict)  # response id -> score
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, ms: float) -> None:
        with self.lock:
            self.requests += 1
            self.latencies_ms.append(ms)
            if status is None:
                self.connection_errors += 1
                self.errors += 1
                return
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                self.ok += 1
            else:
                self.errors += 1

    def ack(self, response_id: int, score: int) -> None:
        with self.lock:
            self.acked[response_id] = score


class Client:
    def __init__(self, base: str, target: Target, tally: Tally) -> None:
        parsed = urlparse(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.target, self.tally = target, tally
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int | None, dict]:
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request(
                "POST",
                path,
                json.dumps(body),
                {"Content-Type": "application/json", **headers},
            )
            resp = self.conn.getresponse()
            raw = resp.read()
            status = resp.status
            data = json.loads(raw) if raw else {}
        except (OSError, http.client.HTTPException, json.JSONDecodeError):
            # A killed worker drops its connections: that request was in flight.
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status, data = None, {}
        self.tally.record(status, (time.perf_counter() - started) * 1000)
        return status, data

    def api_response(self) -> None:
        score = random.randint(0, 10)
        status, data = self.post(
            "/api/v1/responses",
            {
                "survey_id": self.target.survey_id,
                "person": {"external_id": f"api-{random.randint(1, 5000)}"},
                "score": score,
                "comment": "load ✓ нагрузка 负载",
            },
            {
                "Authorization": f"Bearer {self.target.secret_key}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        if status == 201:
            self.tally.ack(data["id"], score)

    def widget_flow(self) -> None:
        key = f"?key={self.target.publishable_key}"
        status, visit = self.post(
            "/w/v1/visits" + key, {"external_id": f"w-{uuid.uuid4().hex[:12]}"}, {}
        )
        if status != 200 or not visit.get("show"):
            return
        score = random.randint(0, 10)
        status, answer = self.post(
            "/w/v1/responses" + key, {"display_token": visit["display_token"], "score": score}, {}
        )
        if status is not None and 200 <= status < 300:
            self.tally.ack(answer["response_id"], score)

    def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if random.random() < 0.5:
                self.api_response()
            else:
                self.widget_flow()


def worker_pids(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def killer(master: int, every: float, deadline: float, kills: list[int]) -> None:
    while time.monotonic() + every < deadline:
        time.sleep(every)
        pids = worker_pids(master)
        if pids:
            victim = random.choice(pids)
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


def verify(target: Target, tally: Tally) -> dict:
    engine = make_engine(target.url)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT id, score FROM survey_responses WHERE project_id = :p"),
                {"p": target.project_id},
            ).all()
        )
        if target.kind == "sqlite":
            integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
        else:
            # Every index and constraint still agrees with its table after the run.
            conn.execute(text("REINDEX TABLE survey_responses"))
            integrity = "ok (reindexed)"
        mismatched = period_answers_mismatch(conn, target.project_id)
    engine.dispose()
    lost = [rid for rid in tally.acked if rid not in stored]
    wrong = [rid for rid, s in tally.acked.items() if rid in stored and stored[rid] != s]
    return {
        "acknowledged": len(tally.acked),
        "stored": len(stored),
        "lost": len(lost),
        "wrong_score": len(wrong),
        "stored_not_acknowledged": len(set(stored) - set(tally.acked)),
        "integrity": integrity,
        "period_answers_mismatched": mismatched,
    }


def period_answers_mismatch(conn, project_id: int) -> int:
    """Rows kept answer by answer under concurrent writers and killed workers that differ from
    a rebuild from the stored answers (the rebuild is rolled back)."""
    pa = PeriodAnswer
    rows = select(pa.survey_id, pa.unit, pa.period, pa.person_id, pa.score, pa.response_id).where(
        pa.survey_id.in_(select(Survey.id).where(Survey.project_id == project_id))
    )
    with Session(bind=conn) as session:
        kept = set(session.execute(rows).all())
        period_answers.rebuild(session, session.get(Project, project_id))
        rebuilt = set(session.execute(rows).all())
        session.rollback()
    return len(kept ^ rebuilt)


def run(kind: str, seconds: int, clients: int, kill_every: float | None) -> dict:
    name = f"load-{kind}-{'kill' if kill_every else 'steady'}"
    url = fresh_database(kind, name.replace("-", "_"))
    target = seed(url, kind)
    tally = Tally()
    kills: list[int] = []
    env = {
        "DATABASE_URL": url,
        "VAR_DIR": str(OUT / "var"),
        "SECRET_KEY": "reliability-secret-key-not-for-production",
        "WEB_CONCURRENCY": str(WORKERS),
        "ACCESS_LOG": "/dev/null",
        # One loopback address plays 64 clients: the per-IP widget limit would otherwise be
        # what this measures.
        "RATE_LIMIT_WIDGET_IP": "1000000/minute",
        "RATE_LIMIT_WIDGET_KEY": "1000000/minute",
        "RATE_LIMIT_API": "1000000/minute",
    }
    try:
        with gunicorn("wsgi:app", env, name, ready_path="/healthz") as base:
            master = _master_pid(name)
            deadline = time.monotonic() + seconds
            threads = [
                threading.Thread(target=Client(base, target, tally).run, args=(deadline,))
                for _ in range(clients)
            ]
            if kill_every:
                threads.append(
                    threading.Thread(target=killer, args=(master, kill_every, deadline, kills))
                )
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        result = {
            "database": kind,
            "seconds": seconds,
            "clients": clients,
            "gunicorn_workers": WORKERS,
            "workers_killed": len(kills),
            "requests": tally.requests,
            "2xx": tally.ok,
            "errors": tally.errors,
            "connection_errors": tally.connection_errors,
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "requests_per_second": round(tally.requests / seconds, 1),
            "p50_ms": round(statistics.median(tally.latencies_ms), 1),
            "p99_ms": round(statistics.quantiles(tally.latencies_ms, n=100)[98], 1),
            **verify(target, tally),
        }
    finally:
        drop_database(url)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2))
    return result


def _master_pid(log_name: str) -> int:
    """gunicorn writes its master pid in the first log lines."""
    log = Path(OUT.parent / f"{log_name}.gunicorn.log").read_text()
    return int(re.search(r"Listening at: \S+ \((\d+)\)", log).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--kill-every", type=float, default=None)
    args = parser.parse_args()
    result = run(args.db, args.seconds, args.clients, args.kill_every)
    print(json.dumps(result, indent=2))
    if result["lost"] or result["wrong_score"] or not str(result["integrity"]).startswith("ok"):
        raise SystemExit("acknowledged answers were lost or the database is damaged")
    if result["period_answers_mismatched"]:
        raise SystemExit("the period answers kept under load differ from a rebuild")
    if not args.kill_every and result["errors"]:
        raise SystemExit("errors reached clients without any fault injected")


if __name__ == "__main__":
    main()
