"""Alerts: matching a backlog of new answers, and posting alerts, each against a hand-written
baseline doing the same job in the same run.

    .venv/bin/python -m bench.bench_alerts [--people 25000] [--posts 300]

Matching: `bench.dataset` builds 4 quarters of answers (25,000 people: 100,000 answers) in a
SQLite file; two detractor rules (one plain, one with a comment, `plan=enterprise` and
`mrr >= 250`) match the whole backlog through `surveys.loop.alerts.match_answers`, one worker
pass after another, until it is settled. The baseline is the sqlite3 module: the same keyset
SELECT of detractor rows in batches of 1,000, the same conditions in Python and the same
INSERT OR IGNORE of the matches, once. The pass looks at every range twice (answers committed
out of id order), so 0.5 is the most it can reach. Printed: answers per second and the ratio.

Posting: Slack bodies to a local HTTP receiver through the worker's sender (the address
checked and pinned, a new connection per post, as for a webhook), against a plain
`http.client` loop posting the same bytes on a new connection each. Ratio target >= 0.7.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.dataset import build
from service.db import make_engine
from service.worker.alert_senders import post_json
from surveys.clock import utcnow
from surveys.loop.alert_content import Alert, AlertItem
from surveys.loop.alert_messages import slack_body
from surveys.loop.alert_rules import Destinations, create_rule, sealer_for
from surveys.loop.alerts import answer_matches, match_answers
from surveys.models import AlertEvent, AlertRule, SurveyResponse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RULES = [
    {"name": "All detractors"},
    {
        "name": "Enterprise with a comment",
        "comment_required": True,
        "property_key": "plan",
        "property_value": "enterprise",
        "revenue_property": "mrr",
        "revenue_min": 250,
    },
]


def _rules(session: Session) -> list[AlertRule]:
    destinations = Destinations(sealer_for("bench-secret-key-" + "x" * 32), allow_private=True)
    made = []
    for fields in RULES:
        rule = create_rule(
            session,
            1,
            {"kind": "detractor", "destination": "email", "emails": ["cx@acme.test"], **fields},
            destinations,
        )
        rule.settled_to = rule.examined_to = 0  # the whole stored backlog is new
        made.append(rule)
    session.commit()
    return made


def ours(path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        rules = _rules(session)
        newest = session.scalar(select(func.max(SurveyResponse.id)))
        started = time.perf_counter()
        for rule in rules:
            # One worker pass each (50 batches of 1,000), until the backlog is settled.
            while rule.settled_to < newest:
                match_answers(session, rule, utcnow())
                session.commit()
        elapsed = time.perf_counter() - started
        found = session.scalar(select(func.count()).select_from(AlertEvent))
    engine.dispose()
    return elapsed, found


def baseline(path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        rules = _rules(session)
        for rule in rules:
            session.refresh(rule)
        session.expunge_all()  # plain objects for `answer_matches` once the session is gone
        ids = [rule.id for rule in rules]
    engine.dispose()
    con = sqlite3.connect(path)
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    for rule, rule_id in zip(rules, ids, strict=True):
        # Like the pass, it reads the comment and properties only for a rule that checks them.
        conditions = bool(rule.comment_required or rule.property_key)
        extra = ", comment, properties" if conditions else ""
        low = 0
        while True:
            rows = con.execute(
                f"SELECT id, created_at{extra} FROM survey_responses"
                " WHERE project_id = 1 AND id > ? AND score <= 6 AND excluded = 0"
                " ORDER BY id LIMIT 1000",
                (low,),
            ).fetchall()
            if not rows:
                break
            matched = [
                (rule_id, f"response:{r[0]}", r[0], "{}", "pending", r[1], 0, now)
                for r in rows
                if not conditions or answer_matches(rule, r[2], json.loads(r[3]))
            ]
            con.executemany(
                "INSERT OR IGNORE INTO alert_events (rule_id, subject, response_id, data,"
                " status, occurred_at, attempts, created_at) VALUES (?,?,?,?,?,?,?,?)",
                matched,
            )
            con.commit()
            low = rows[-1][0]
    elapsed = time.perf_counter() - started
    found = con.execute("SELECT count(*) FROM alert_events").fetchone()[0]
    con.close()
    return elapsed, found


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


def _body() -> dict:
    items = [
        AlertItem(
            title=f"user-{n} scored {n % 7}",
            facts=[("Score", str(n % 7)), ("Person", f"user-{n}"), ("Survey", "Quarterly NPS")],
            link=f"https://flywheel.example/app/people/{n}",
            link_label="Open response",
            quote="Exports keep failing & <support> never answers",
        )
        for n in range(5)
    ]
    return slack_body(Alert("5 detractors answered", "Detractors", "Bench Co", items))


def posting(posts: int) -> tuple[float, float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}/services/T0/B0/bench"
    body = _body()
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}

    started = time.perf_counter()
    for _ in range(posts):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/services/T0/B0/bench", body=payload, headers=headers)
        conn.getresponse().read()
        conn.close()
    plain = posts / (time.perf_counter() - started)

    started = time.perf_counter()
    for _ in range(posts):
        post_json(url, body, allow_private=True)
    mine = posts / (time.perf_counter() - started)
    server.shutdown()
    server.server_close()
    return mine, plain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=25_000)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    answers = args.people * 4
    results = {}
    for name, run in (("baseline", baseline), ("ours", ours)):
        path = OUT / f"alerts_{name}.db"
        build(path, people=args.people, quarters=4)
        elapsed, found = run(path)
        results[name] = (elapsed, found)
        print(
            f"matching {name}: {answers:,} answers x 2 rules in {elapsed:.2f} s, {found:,} matches"
        )
    assert results["ours"][1] == results["baseline"][1], "both must find the same matches"
    rate = {k: 2 * answers / v[0] for k, v in results.items()}
    print(
        f"matching: ours {rate['ours']:,.0f} answers/s, baseline {rate['baseline']:,.0f}/s, "
        f"ratio {rate['ours'] / rate['baseline']:.2f}"
    )
    mine, plain = posting(args.posts)
    print(
        f"posting: ours {mine:,.0f} posts/s, plain http.client {plain:,.0f}/s, "
        f"ratio {mine / plain:.2f} (target >= 0.7)"
    )


if __name__ == "__main__":
    main()
