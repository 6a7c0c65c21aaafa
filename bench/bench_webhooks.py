"""Webhooks: event-to-delivery latency under a 16-connection ingest load, and deliveries per
second against a plain HTTP client loop posting the same bodies, in the same run.

1. gunicorn serves `POST /api/v1/responses` to wrk (16 connections) while a real worker
   process (`flask --app wsgi surveys worker`, its one-second webhook loop) delivers each
   `response.created` to a receiver in another process. The receiver takes the latency of
   each message as its arrival time minus the event's `timestamp`: p50 and p99. The same wrk
   run without a listening webhook gives the ingest cost of the outbox.
2. The worker's delivery pass drains N queued deliveries to the same receiver (claim, sign,
   POST on a kept connection, record), against a plain `http.client` loop POSTing the same N
   bodies on one kept connection. Rounds alternate; the median ratio counts (target >= 0.7).

python -m bench.bench_webhooks [--seconds 10] [--deliveries 2000] [--rounds 3]
    [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import delete, func, select

from bench.bench_http import answer_body, prepare
from bench.http_load import OUT, free_port, gunicorn, post_json_lua, wrk
from service.db import db
from service.factory import create_app
from service.worker.webhooks import deliver_pass
from surveys.clock import utcnow
from surveys.loop import webhooks
from surveys.models import Delivery, Event, Project, Webhook
from surveys.sealed import Sealer

TARGET = 0.7


# --- the receiver: its own process, so it never shares a GIL with what it measures -------


def serve(port: int) -> None:
    latencies: list[float] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # The status line and body go in separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add 40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/hooks":
                arrived = time.time()
                stamp = json.loads(body)["timestamp"]
                sent = datetime.fromisoformat(stamp.rstrip("Z")).replace(tzinfo=UTC)
                with lock:
                    latencies.append(arrived - sent.timestamp())
                answer = b"ok"
            elif self.path == "/reset":
                with lock:
                    latencies.clear()
                answer = b"ok"
            else:
                with lock:
                    answer = json.dumps(latencies).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args):
            return None

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _call(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=b"{}")
    data = conn.getresponse().read()
    conn.close()
    return data


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- set-up --------------------------------------------------------------------------------


def add_webhook(env: dict[str, str], url: str) -> int:
    app = create_app(env)
    with app.app_context():
        project_id = db().scalar(select(Project.id))
        made = webhooks.create_webhook(
            db(),
            project_id,
            {"url": url, "events": ["response.created"]},
            seal=Sealer(env["SECRET_KEY"], "webhook secret").seal,
            allow_private=True,
            now=utcnow(),
        )
        db().commit()
        hook_id = made.webhook.id
    app.extensions["db_engine"].dispose()
    return hook_id


def set_active(app, hook_id: int, active: bool) -> None:
    with app.app_context():
        project_id = db().get(Webhook, hook_id).project_id
        webhooks.update_webhook(
            db(), project_id, hook_id, {"active": active}, allow_private=True, now=utcnow()
        )
        db().commit()


def outstanding(app) -> int:
    with app.app_context():
        events = db().scalar(select(func.count()).select_from(Event)) or 0
        pending = db().scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status != "succeeded")
        )
        db().close()
        return events + (pending or 0)


# --- part 1: latency under ingest ----------------------------------------------------------


def latency_run(env, secret_key, survey_id, port, hook_id, args):
    app = create_app(env)
    headers = {"Authorization": f"Bearer {secret_key}"}
    lua = post_json_lua(answer_body(survey_id, args.people), headers)
    run = {"seconds": args.seconds, "connections": args.connections}
    worker_log = open(OUT / "webhooks.worker.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "surveys", "worker"],
        env={**os.environ, **env},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        # A loaded machine boots gunicorn's workers slowly: wait longer than the default.
        with gunicorn(
            "wsgi:app", env, "webhooks", ready_path="/healthz", ready_seconds=300
        ) as base:
            set_active(app, hook_id, False)
            quiet = wrk(base + "/api/v1/responses", lua=lua, name="webhooks-ingest-off", **run)
            set_active(app, hook_id, True)
            time.sleep(3)  # the worker has started and imported what it needs
            _call(port, "/reset")
            loud = wrk(base + "/api/v1/responses", lua=lua, name="webhooks-ingest-on", **run)
        deadline = time.monotonic() + 120
        while outstanding(app) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = outstanding(app)
    finally:
        worker.terminate()
        worker.wait(20)
        worker_log.close()
        app.extensions["db_engine"].dispose()
    latencies = json.loads(_call(port, "/stats"))
    return quiet, loud, latencies, left


# --- part 2: deliveries per second ---------------------------------------------------------


def queue_bodies(app, hook_id: int, bodies: list[str]) -> None:
    with app.app_context():
        db().execute(delete(Delivery))
        hook = db().get(Webhook, hook_id)
        now = utcnow()
        for payload in bodies:
            webhooks.queue(db(), hook, "response.created", payload, now)
        db().commit()


def ours(app, hook_id: int, bodies: list[str]) -> float:
    queue_bodies(app, hook_id, bodies)
    started = time.perf_counter()
    with app.app_context():
        done = 0
        while done < len(bodies):
            done += deliver_pass(app)
        db().close()
    return len(bodies) / (time.perf_counter() - started)


def plain(port: int, bodies: list[str]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for payload in bodies:
        conn.request(
            "POST", "/hooks", body=payload.encode(), headers={"content-type": "application/json"}
        )
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"receiver answered {answer.status}")
    rate = len(bodies) / (time.perf_counter() - started)
    conn.close()
    return rate


def sample_bodies(app, secret_key: str, survey_id: int, count: int) -> list[str]:
    """Real `response.created` bodies (their data is the API's JSON of 50 fresh answers)."""
    from service.schemas.responses import ResponseSchema
    from surveys.models import SurveyResponse
    from surveys.response_context import attach_contexts

    client = app.test_client()
    for number in range(50):
        body = {
            "survey_id": survey_id,
            "person": {"external_id": f"sample-{number}"},
            "score": number % 11,
            "comment": "The export is slow and the dashboard times out." if number % 3 else None,
        }
        headers = {"Authorization": f"Bearer {secret_key}"}
        assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 201
    with app.app_context():
        rows = list(db().scalars(select(SurveyResponse).order_by(SurveyResponse.id).limit(count)))
        attach_contexts(db(), rows[0].project_id, rows)
        dumped = [ResponseSchema().dump(r) for r in rows]
        db().close()
    bodies = [webhooks.body("response.created", utcnow(), d) for d in dumped]
    while len(bodies) < count:
        bodies.extend(bodies[: count - len(bodies)])
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="default: a fresh SQLite file (WAL)")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    started_load = os.getloadavg()[0]
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_webhooks", "--serve", str(port)]
    )
    try:
        time.sleep(1)
        with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp:
            database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
            env, secret_key, _publishable, survey_id = prepare(database_url, Path(tmp) / "var")
            env["WEBHOOK_ALLOW_PRIVATE"] = "1"
            hook_id = add_webhook(env, f"http://127.0.0.1:{port}/hooks")
            app = create_app(env)
            bodies = sample_bodies(app, secret_key, survey_id, args.deliveries)
            rounds = []
            for _ in range(args.rounds):
                base_rate = plain(port, bodies)
                our_rate = ours(app, hook_id, bodies)
                rounds.append((base_rate, our_rate))
                print(f"plain {base_rate:,.0f}/s, pass {our_rate:,.0f}/s", flush=True)
            with app.app_context():
                db().execute(delete(Delivery))
                db().execute(delete(Event))
                db().commit()
            app.extensions["db_engine"].dispose()
            quiet, loud, latencies, left = latency_run(
                env, secret_key, survey_id, port, hook_id, args
            )
    finally:
        receiver.terminate()
        receiver.wait(10)

    database = "given URL" if args.database_url else "SQLite (WAL)"
    say(f"database: {database}; ingest {args.connections} connections, {args.seconds} s")
    say(f"load average at the start {started_load:.1f}, at the end {os.getloadavg()[0]:.1f}")
    say(quiet.line("POST /api/v1/responses, no webhook"))
    say(loud.line("POST /api/v1/responses, webhook on"))
    cost = loud.requests_per_second / quiet.requests_per_second
    say(f"{'ingest with / without a webhook':<36} = {cost:.2f}")
    say(
        f"event-to-delivery latency over {len(latencies)} messages (undelivered: {left}): "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    for number, (base_rate, our_rate) in enumerate(rounds, 1):
        say(
            f"round {number}: plain http.client loop {base_rate:,.0f}/s, "
            f"delivery pass {our_rate:,.0f}/s, ratio {our_rate / base_rate:.2f}"
        )
    ratio = statistics.median(o / b for b, o in rounds)
    say(f"deliveries/s vs plain loop (median of {len(rounds)}) = {ratio:.2f} (target >= {TARGET})")
    (OUT / "webhooks.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
