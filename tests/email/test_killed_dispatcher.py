"""A real dispatcher process killed in the middle of a batch: the message in flight ends
`uncertain` and is never sent again; those sent before it stay `sent`; those it claimed but
never tried are sent by a later run once its lease has run out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from service.db import db
from service.worker.dispatch import LEASE
from surveys.clock import utcnow
from surveys.models import Invitation, Person
from tests.conftest import TEST_SECRET
from tests.email.conftest import create_person, create_survey, run_dispatch

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("ann", "bob", "slow", "dan", "eve")


def _statuses(app) -> dict[str, str]:
    with app.app_context():
        rows = db().execute(
            select(Person.external_id, Invitation.status).join(
                Person, Person.id == Invitation.person_id
            )
        )
        return dict(rows.all())


def test_dispatcher_killed_mid_batch(mail_app, mail_api, smtp_sink, database_url, tmp_path):
    survey = create_survey(mail_api)
    ids = [create_person(mail_api, name)["id"] for name in NAMES]
    smtp_sink.hang.add("slow@example.com")
    resp = mail_api.post(f"/api/v1/surveys/{survey['id']}/invitations", json={"person_ids": ids})
    assert resp.status_code == 201
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": TEST_SECRET,
        "SMTP_URL": smtp_sink.url,
        "PUBLIC_URL": "http://flywheel.test",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "surveys", "dispatch", "--once"]
    proc = subprocess.Popen(
        flask, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert smtp_sink.data_started.wait(60), proc.stderr.read1().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    smtp_sink.release.set()
    # Killed while "slow" was in DATA: one batch, claimed as a whole, tried in order.
    assert _statuses(mail_app) == {
        "ann": "sent",
        "bob": "sent",
        "slow": "sending",
        "dan": "scheduled",
        "eve": "scheduled",
    }

    # Within the lease nobody touches the dead dispatcher's claims: it might only be slow.
    assert run_dispatch(mail_app, utcnow()).handled == 0
    later = utcnow() + LEASE + timedelta(minutes=1)
    result = run_dispatch(mail_app, later)
    assert (result.expired, result.released, result.sent) == (1, 2, 2)
    assert run_dispatch(mail_app, later + timedelta(days=1)).handled == 0

    assert _statuses(mail_app) == {
        "ann": "sent",
        "bob": "sent",
        "slow": "uncertain",
        "dan": "sent",
        "eve": "sent",
    }
    listed = mail_api.get("/api/v1/invitations?status=uncertain").get_json()["items"]
    assert len(listed) == 1 and "lease expired" in listed[0]["error"]
    received = Counter(r.rcpt_tos[0] for r in smtp_sink.received)
    assert received == {f"{name}@example.com": 1 for name in NAMES if name != "slow"}
