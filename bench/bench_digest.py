"""The digest: its figures against the API calls that return the same figures, and the pass
sending it to many subscribers against a plain smtplib loop sending the same messages.

    .venv/bin/python -m bench.bench_digest [--people 50000] [--subscribers 500] [--rounds 2]

The database is `bench.dataset`'s (people x 4 quarters of 2025, one answer each per quarter)
with five stored friction points; the digest covers 2026-W01, movement 2025-Q3 -> 2025-Q4.
Figures: `build_digest` vs the five API requests (test client) a client would make for the
same numbers (NPS by week, movement with revenue, movers down, friction points, invitation
stats). Sending: one `digests` worker pass (claims, figures once, charts once, a message per
subscriber with their own unsubscribe link, one commit per send) to a local SMTP sink vs
`smtplib.SMTP.sendmail` of the same prepared messages over one connection.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import time
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import delete, select, update

from bench import dataset
from bench.bench_dispatch import free_port, start_sink
from service import migrate
from service.db import db, make_engine
from service.factory import create_app
from service.worker.digests import _links, send_due
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member
from surveys.loop.digest import build_digest, nps_query
from surveys.loop.digest_message import build_message, charts
from surveys.loop.digest_subscriptions import covered_period, set_cadence
from surveys.models import DigestSend, DigestSubscription, FrictionPoint, Project, ThemeRun
from surveys.projects import rotate_keys

OUT = Path(__file__).resolve().parent / "out"
NOW = datetime(2026, 1, 7, 10, 0)
SECRET = "bench-secret-key-not-for-production"


def setup(app, project_id: int, subscribers: int) -> None:
    with app.app_context():
        session = db()
        run = ThemeRun(project_id=project_id, status="done", finished_at=NOW)
        session.add(run)
        session.flush()
        for i, label in enumerate(("Support", "Pricing", "Mobile app", "Dashboard", "Export")):
            session.add(
                FrictionPoint(
                    run_id=run.id,
                    project_id=project_id,
                    cluster=i,
                    rank=i + 1,
                    label=label,
                    size=1000 - 100 * i,
                    share=0.2 - 0.02 * i,
                    nps_impact=10.0 - i,
                    revenue_at_risk=5000.0 - 500 * i,
                    trend_direction="growing" if i % 2 else "stable",
                    trend_slope=float(i),
                )
            )
        for i in range(subscribers):
            added = add_member(session, project_id, f"member{i}@acme.test", Role.EDITOR)
            set_cadence(session, added.user.id, project_id, "weekly")
        session.commit()


def median_time(fn, repeat: int) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", type=Path, default=OUT / "digest_data.db")
    args = parser.parse_args()
    if args.db.exists():
        args.db.unlink()
    print(f"building {args.db} ({args.people:,} people x 4 quarters) ...", flush=True)
    ds = dataset.build(args.db, people=args.people, quarters=4)
    engine = make_engine(f"sqlite:///{args.db}")
    migrate.upgrade(engine)
    engine.dispose()
    port = free_port()
    sink = start_sink(port)
    lines = []
    try:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{args.db}",
                "VAR_DIR": str(args.db.parent / "var"),
                "SECRET_KEY": SECRET,
                "SMTP_URL": f"smtp://127.0.0.1:{port}",
            }
        )
        setup(app, ds.project_id, args.subscribers)
        with app.app_context():
            secret = rotate_keys(db(), ds.project_id).keys.secret_key
            db().commit()
            project = db().get(Project, ds.project_id)
            period = covered_period(NOW, "weekly", project.time_zone)
            first = nps_query(period, "week", project.time_zone).filters.since
        auth = {"Authorization": f"Bearer {secret}"}
        client = app.test_client()
        iso = "%Y-%m-%dT%H:%M:%SZ"
        urls = [
            f"/api/v1/metrics/nps?group_by=week&since={first:{iso}}&until={period.end:{iso}}",
            f"/api/v1/metrics/movement?survey_id={ds.survey_id}&from=2025-Q3&to=2025-Q4"
            "&weight=property:mrr",
            f"/api/v1/movement/people?survey_id={ds.survey_id}&from=2025-Q3&to=2025-Q4"
            "&movement=down&limit=10",
            "/api/v1/themes?sort=impact",
            f"/api/v1/surveys/{ds.survey_id}/invitations/stats",
        ]

        def api_calls() -> None:
            for url in urls:
                r = client.get(url, headers=auth)
                assert r.status_code == 200, (url, r.get_json())

        def figures() -> None:
            with app.app_context():
                build_digest(db(), db().get(Project, ds.project_id), "weekly", period)
                db().rollback()

        api_s, digest_s = median_time(api_calls, 3), median_time(figures, 3)
        lines.append(
            f"figures ({ds.responses:,} responses): build_digest {digest_s:.3f} s; the five API "
            f"requests for the same figures {api_s:.3f} s; ratio {digest_s / api_s:.2f}"
        )
        print(lines[-1], flush=True)

        sender = parseaddr(app.config["FLYWHEEL"].mail_from)[1]
        with app.app_context():
            digest = build_digest(db(), db().get(Project, ds.project_id), "weekly", period)
            images = charts(digest, "bench.test")
            prepared = [
                build_message(
                    digest,
                    _links(i + 1),
                    sender=app.config["FLYWHEEL"].mail_from,
                    recipient=f"member{i}@acme.test",
                    sees_emails=True,
                    images=images,
                )
                for i in range(args.subscribers)
            ]
        size = statistics.mean(len(m) for m in prepared)
        best_base = best_pass = 0.0
        for round_no in range(1, args.rounds + 1):
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as conn:
                for i, body in enumerate(prepared):
                    conn.sendmail(sender, [f"member{i}@acme.test"], body)
            base = len(prepared) / (time.perf_counter() - started)
            with app.app_context():
                # Each round sends afresh: no claimed period, nothing covered yet.
                db().execute(delete(DigestSend))
                db().execute(update(DigestSubscription).values(covered_until=None))
                db().commit()
                started = time.perf_counter()
                sent = send_due(app, NOW)
                elapsed = time.perf_counter() - started
            assert sent == args.subscribers, sent
            with app.app_context():
                statuses = set(db().scalars(select(DigestSend.status)))
            assert statuses == {"sent"}, statuses
            rate = sent / elapsed
            best_base, best_pass = max(best_base, base), max(best_pass, rate)
            # The figures are built once per pass; what each further subscriber costs:
            per_message = max(elapsed - digest_s, 1e-9) / sent
            lines.append(
                f"round {round_no}: smtplib loop {base:,.0f} msg/s; digest pass {rate:,.0f} "
                f"msg/s ({elapsed:.2f} s for {sent}, figures and charts included; "
                f"{1 / per_message:,.0f} msg/s without the figures' {digest_s:.2f} s); "
                f"ratio {rate / base:.2f}"
            )
            print(lines[-1], flush=True)
        lines.append(
            f"best of {args.rounds}: smtplib {best_base:,.0f} msg/s, digest pass "
            f"{best_pass:,.0f} msg/s, ratio {best_pass / best_base:.2f}; "
            f"{args.subscribers} subscribers, messages of {size / 1024:.0f} KiB"
        )
        print(lines[-1])
        app.extensions["db_engine"].dispose()
    finally:
        sink.terminate()
        sink.wait(10)
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_digest.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
