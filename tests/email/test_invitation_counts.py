"""Invitation counters: kept by the database's triggers through scheduling, sending, bounces,
retries, answers and erasure; read by the API and the surveys page; checked and rebuilt by
the worker when they disagree with the invitations."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import select, text

from service.db import db
from service.worker.counter_jobs import check_counters
from service.worker.loop import worker_passes
from surveys.clock import utcnow
from surveys.email import invitation_counts
from surveys.models import Survey
from tests.email.conftest import NOW, create_person, create_survey, run_dispatch, run_schedule

LINK = re.compile(r"http://flywheel\.test(/r/[A-Za-z0-9_.\-]+)\?score=9")


def _kept_and_counted(app, survey_ids: list[int]):
    with app.app_context():
        return invitation_counts.read(db(), survey_ids), invitation_counts.count(db(), survey_ids)


def test_counters_follow_every_write(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api, reminder_after_days=2)
    other = create_survey(mail_api, name="Other")
    ids = [survey["id"], other["id"]]
    people = [create_person(mail_api, f"p{i}") for i in range(6)]
    smtp_sink.refuse["p1@example.com"] = "550 5.1.1 no such user"
    smtp_sink.refuse["p2@example.com"] = "451 4.3.0 try later"

    assert run_schedule(mail_app).created == 6  # the other survey waits (throttle)
    kept, counted = _kept_and_counted(mail_app, ids)
    assert kept == counted and kept[survey["id"]].scheduled == 6

    result = run_dispatch(mail_app)
    assert (result.sent, result.failed, result.retried) == (4, 1, 1)
    kept, counted = _kept_and_counted(mail_app, ids)
    assert kept == counted
    assert (kept[survey["id"]].sent, kept[survey["id"]].failed) == (4, 1)
    assert (kept[survey["id"]].bounced, kept[survey["id"]].scheduled) == (1, 1)

    # An answer through the mailed link marks the invitation responded.
    mail = next(r for r in smtp_sink.received if r.rcpt_tos == ["p3@example.com"])
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    path = LINK.search(body).group(1)
    client = mail_app.test_client()
    assert client.post(path, data={"step": "score", "score": "9"}).status_code == 303
    # Reminders are scheduled, sent and not counted as invitations.
    run_schedule(mail_app, NOW + timedelta(days=3))
    run_dispatch(mail_app, NOW + timedelta(days=3))
    # A person erased: the cascade removes their invitations.
    assert mail_api.delete(f"/api/v1/people/{people[4]['id']}").status_code == 204
    kept, counted = _kept_and_counted(mail_app, ids)
    assert kept == counted
    mine = kept[survey["id"]]
    assert (mine.responded, mine.sent, mine.response_rate) == (1, 3, 0.3333)
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert stats == asdict(mine)


def test_the_worker_rebuilds_counters_that_disagree(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api)
    other = create_survey(mail_api, name="Other")
    for i in range(3):
        create_person(mail_api, f"p{i}")
    run_schedule(mail_app)
    run_dispatch(mail_app)
    assert [name for name, _ in worker_passes()].count("invitation_counts") == 1

    with mail_app.app_context():
        # Written past the triggers, as a restore or a hand edit could.
        db().execute(
            text("UPDATE invitation_counts SET invitations = invitations + 5 WHERE survey_id = :s"),
            {"s": survey["id"]},
        )
        db().commit()
    kept, counted = _kept_and_counted(mail_app, [survey["id"]])
    assert kept[survey["id"]].sent == 8 and counted[survey["id"]].sent == 3

    with mail_app.app_context():
        assert check_counters(mail_app) == 1
        checked = db().scalars(select(Survey.counts_checked_at).order_by(Survey.id)).all()
        assert all(checked)
        # Checked within the hour: nothing is due again.
        assert invitation_counts.due_for_check(db(), utcnow(), 5) == []
    kept, counted = _kept_and_counted(mail_app, [survey["id"], other["id"]])
    assert kept == counted and kept[survey["id"]].sent == 3
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert stats["sent"] == 3

    with mail_app.app_context():
        # Counters that agree are left alone.
        for survey_id in (survey["id"], other["id"]):
            assert invitation_counts.check(db(), survey_id, NOW) is False
        db().commit()
