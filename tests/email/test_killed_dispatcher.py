"""A real dispatcher process killed in the middle of a send: the invitation ends `uncertain`
and no later run sends it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from service.db import db
from surveys.clock import utcnow
from surveys.models import Invitation
from tests.conftest import TEST_SECRET
from tests.email.conftest import create_person, create_survey, run_dispatch

ROOT = Path(__file__).resolve().parents[2]


def test_dispatcher_killed_mid_send(mail_app, mail_api, smtp_sink, database_url, tmp_path):
    survey = create_survey(mail_api)
    person = create_person(mail_api, "slow")
    smtp_sink.hang.add("slow@example.com")
    resp = mail_api.post(
        f"/api/v1/surveys/{survey['id']}/invitations", json={"person_ids": [person["id"]]}
    )
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
    with mail_app.app_context():
        assert db().scalar(select(Invitation.status)) == "sending"

    later = utcnow() + timedelta(minutes=11)
    result = run_dispatch(mail_app, later)
    assert (result.expired, result.sent) == (1, 0)
    assert run_dispatch(mail_app, later + timedelta(days=1)).sent == 0
    listed = mail_api.get("/api/v1/invitations?status=uncertain").get_json()["items"]
    assert len(listed) == 1 and "lease expired" in listed[0]["error"]
    assert smtp_sink.received == []
