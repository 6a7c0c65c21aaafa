"""End to end over real SMTP: schedule -> dispatch -> parse the received mail -> follow a link
-> POST -> stored response with segment and channel -> comment -> metrics."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from service.db import db
from surveys.models import Invitation, Person, SurveyResponse
from tests.email.conftest import NOW, create_person, create_survey, run_dispatch, run_schedule

LINK = re.compile(r"http://flywheel\.test/r/[A-Za-z0-9_.\-]+\?score=\d+")


def _parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_schedule_dispatch_answer_and_metrics(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api, email_subject={"en": "How are we doing, {product}?"})
    person = create_person(mail_api, "ann", name="Ann <Admin>", locale="en-GB")
    create_person(mail_api, "nomail", email=None)

    scheduled = run_schedule(mail_app)
    assert scheduled.created == 1
    assert scheduled.reasons["no_email"] == 1
    result = run_dispatch(mail_app)
    assert result.sent == 1

    [got] = smtp_sink.received
    assert got.rcpt_tos == ["ann@example.com"]
    assert got.mail_from == "nps@acme.test"
    msg = got.message
    assert msg["Subject"] == "How are we doing, Acme?"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = msg["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith("http://flywheel.test/u/")
    assert re.fullmatch(r"<[\d.]+\.inv\d+@acme\.test>", msg["Message-ID"].replace("\n", ""))
    text, html = _parts(msg)
    text_links = LINK.findall(text)
    html_links = LINK.findall(html)
    assert [int(u.rsplit("=", 1)[1]) for u in text_links] == list(range(11))
    assert html_links == text_links
    assert "How likely are you to recommend Acme" in text
    assert "Ann &lt;Admin&gt;" in html and "<Admin>" not in html
    assert "<img" not in html

    client = mail_app.test_client()
    page = client.get(_path(text_links[3]))
    assert page.status_code == 200
    assert 'value="3" checked' in page.get_data(as_text=True)
    with mail_app.app_context():
        assert db().scalar(select(func.count()).select_from(SurveyResponse)) == 0

    posted = client.post(_path(text_links[3]).split("?")[0], data={"step": "score", "score": "3"})
    assert posted.status_code == 303
    follow = client.get(posted.headers["Location"])
    assert "What disappointed you" in follow.get_data(as_text=True)
    comment = client.post(
        _path(text_links[3]).split("?")[0],
        data={"step": "comment", "comment": "Too slow <b>really</b>"},
    )
    assert comment.status_code == 303
    thanks = client.get(comment.headers["Location"]).get_data(as_text=True)
    assert "Too slow &lt;b&gt;really&lt;/b&gt;" in thanks

    listed = mail_api.get(f"/api/v1/responses?survey_id={survey['id']}").get_json()["items"]
    assert len(listed) == 1
    assert listed[0]["score"] == 3
    assert listed[0]["channel"] == "email"
    assert listed[0]["segment"] == "detractor"
    assert listed[0]["comment"] == "Too slow <b>really</b>"
    nps = mail_api.get(f"/api/v1/metrics/nps?survey_id={survey['id']}&channel=email").get_json()
    assert (nps["overall"]["responses"], nps["overall"]["detractors"]) == (1, 1)
    assert nps["overall"]["nps"] == -100

    with mail_app.app_context():
        invitation = db().scalar(select(Invitation))
        assert invitation.status == "sent" and invitation.responded_at is not None
        assert invitation.person_id == person["id"]
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert stats["sent"] == 1 and stats["responded"] == 1 and stats["response_rate"] == 1.0

    # One invitation, one response: another score later updates it.
    client.post(_path(text_links[9]).split("?")[0], data={"step": "score", "score": "9"})
    listed = mail_api.get(f"/api/v1/responses?survey_id={survey['id']}").get_json()["items"]
    assert [(r["score"], r["segment"]) for r in listed] == [(9, "promoter")]

    # Answered this quarter: nothing more is due.
    assert run_schedule(mail_app, NOW + timedelta(days=1)).created == 0


def test_schedule_is_idempotent_and_dispatch_never_sends_twice(mail_app, mail_api, smtp_sink):
    create_survey(mail_api)
    for i in range(5):
        create_person(mail_api, f"p{i}")
    assert run_schedule(mail_app).created == 5
    assert run_schedule(mail_app).created == 0
    assert run_dispatch(mail_app).sent == 5
    assert run_dispatch(mail_app).sent == 0
    assert run_schedule(mail_app, NOW + timedelta(days=5)).created == 0
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.received) == [
        f"p{i}@example.com" for i in range(5)
    ]


def test_dead_dispatcher_only_its_message_in_flight_turns_uncertain(mail_app, mail_api, smtp_sink):
    from service.worker.dispatch import LEASE
    from surveys.email import delivery

    create_survey(mail_api)
    for name in ("ann", "bob", "cyd"):
        create_person(mail_api, name)
    run_schedule(mail_app)
    with mail_app.app_context():
        # A dispatcher claims two, commits the claim, marks the first in flight (the step
        # right before its DATA), then dies.
        claimed = delivery.claim(db(), "dead-worker", NOW, limit=2, lease=LEASE)
        db().commit()
        assert delivery.start_sending(db(), claimed[0], NOW, LEASE)
        db().commit()
        in_flight, untried = claimed[0].id, claimed[1].id
    # Within the lease the dead one's claims are left alone: it might only be slow.
    assert run_dispatch(mail_app).sent == 1
    later = NOW + LEASE + timedelta(minutes=1)
    result = run_dispatch(mail_app, later)
    assert (result.expired, result.released, result.sent) == (1, 1, 1)
    assert run_dispatch(mail_app, later + timedelta(hours=1)).sent == 0
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.received) == [
        "bob@example.com",
        "cyd@example.com",
    ]
    listed = mail_api.get("/api/v1/invitations?status=uncertain").get_json()["items"]
    assert [i["id"] for i in listed] == [in_flight]
    with mail_app.app_context():
        retried = db().get(Invitation, untried)
        assert (retried.status, retried.attempts) == ("sent", 1)
        assert retried.claimed_by != "dead-worker"


def test_a_claim_taken_over_after_its_lease_is_not_sent_by_its_first_owner(mail_app, mail_api):
    from service.worker.dispatch import LEASE
    from surveys.email import delivery

    create_survey(mail_api)
    create_person(mail_api, "ann")
    run_schedule(mail_app)
    with mail_app.app_context():
        [slow] = delivery.claim(db(), "slow-worker", NOW, limit=1, lease=LEASE)
        db().commit()
        later = NOW + LEASE + timedelta(seconds=1)
        [taken] = delivery.claim(db(), "next-worker", later, limit=1, lease=LEASE)
        db().commit()
        assert taken.id == slow.id
        assert not delivery.start_sending(db(), slow, later, LEASE)
        assert delivery.start_sending(db(), taken, later, LEASE)
        db().commit()
        assert db().get(Invitation, taken.id).attempts == 1


def test_permanent_refusal_bounces_the_person(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api)
    person = create_person(mail_api, "gone")
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 no such user"
    run_schedule(mail_app)
    result = run_dispatch(mail_app)
    assert result.failed == 1 and result.sent == 0
    with mail_app.app_context():
        invitation = db().scalar(select(Invitation))
        assert invitation.status == "failed" and "550" in invitation.error
        assert db().get(Person, person["id"]).bounced_at is not None
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert stats["failed"] == 1 and stats["bounced"] == 1
    schedule = mail_api.get(f"/api/v1/people/{person['id']}/schedule").get_json()
    assert schedule["surveys"][0]["reason"] == "bounced"


def test_transient_refusal_retries_with_backoff(mail_app, mail_api, smtp_sink):
    create_survey(mail_api)
    create_person(mail_api, "busy")
    smtp_sink.refuse["busy@example.com"] = "451 4.3.0 try later"
    run_schedule(mail_app)
    assert run_dispatch(mail_app).retried == 1
    with mail_app.app_context():
        invitation = db().scalar(select(Invitation))
        assert invitation.status == "scheduled" and invitation.attempts == 1
        assert invitation.next_attempt_at == NOW + timedelta(minutes=1)
    assert run_dispatch(mail_app, NOW + timedelta(seconds=30)).handled == 0
    del smtp_sink.refuse["busy@example.com"]
    assert run_dispatch(mail_app, NOW + timedelta(minutes=2)).sent == 1
    assert len(smtp_sink.received) == 1


def test_unreachable_server_keeps_the_batch_for_later(database_url, tmp_path):
    from tests.conftest import Api, make_project
    from tests.email.conftest import email_app, free_port

    app = email_app(database_url, tmp_path / "var", f"smtp://127.0.0.1:{free_port()}")
    api = Api(app.test_client(), make_project(app))
    create_survey(api)
    create_person(api, "a")
    create_person(api, "b")
    run_schedule(app)
    result = run_dispatch(app)
    assert result.retried == 1 and result.sent == 0
    with app.app_context():
        states = sorted((i.status, i.attempts) for i in db().scalars(select(Invitation)))
    assert states == [("scheduled", 0), ("scheduled", 1)]
    app.extensions["db_engine"].dispose()


def test_unsubscribe_one_click_stops_all_mail(mail_app, mail_api, smtp_sink):
    first = create_survey(mail_api)
    second = create_survey(mail_api, name="Onboarding")
    person = create_person(mail_api, "ann")
    run_schedule(mail_app)
    run_dispatch(mail_app)
    [got] = smtp_sink.received
    url = got.message["List-Unsubscribe"].strip().strip("<>")
    client = mail_app.test_client()
    page = client.get(_path(url))
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    assert mail_api.get("/api/v1/unsubscribes").get_json()["items"] == []
    # RFC 8058: the mail client POSTs this body to the List-Unsubscribe URL.
    done = client.post(
        _path(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    items = mail_api.get("/api/v1/unsubscribes").get_json()["items"]
    assert [i["person_id"] for i in items] == [person["id"]]
    later = NOW + timedelta(days=400)
    result = run_schedule(mail_app, later)
    assert result.created == 0 and result.reasons["unsubscribed"] == 2
    plans = mail_api.get(f"/api/v1/people/{person['id']}/schedule").get_json()["surveys"]
    assert {p["survey_id"]: p["reason"] for p in plans} == {
        first["id"]: "unsubscribed",
        second["id"]: "unsubscribed",
    }


def test_fatigue_guard_spans_surveys(mail_app, mail_api, smtp_sink):
    create_survey(mail_api)
    create_survey(mail_api, name="Second")
    create_person(mail_api, "ann")
    result = run_schedule(mail_app)
    assert result.created == 1 and result.reasons["throttled"] == 1
    run_dispatch(mail_app)
    assert run_schedule(mail_app, NOW + timedelta(days=29)).created == 0
    assert run_schedule(mail_app, NOW + timedelta(days=31)).created == 1


def test_localized_russian_email(mail_app, mail_api, smtp_sink):
    create_survey(mail_api)
    create_person(mail_api, "ivan", locale="ru-RU", name="Иван")
    run_schedule(mail_app)
    run_dispatch(mail_app)
    msg = smtp_sink.received[0].message
    assert msg["Subject"] == "Короткий вопрос: порекомендуете ли вы Acme?"
    text, html = _parts(msg)
    assert "Здравствуйте, Иван!" in text and 'lang="ru"' in html
    assert "Насколько вероятно, что вы порекомендуете Acme" in text


def test_reminder_once_to_non_responders(mail_app, mail_api, smtp_sink):
    create_survey(mail_api, reminder_after_days=3)
    create_person(mail_api, "ann")
    create_person(mail_api, "bob")
    run_schedule(mail_app)
    run_dispatch(mail_app)
    bob_link = next(
        LINK.findall(_parts(r.message)[0])[10]
        for r in smtp_sink.received
        if r.rcpt_tos == ["bob@example.com"]
    )
    mail_app.test_client().post(_path(bob_link).split("?")[0], data={"score": "10"})
    later = NOW + timedelta(days=4)
    assert run_schedule(mail_app, later).reminders == 1
    assert run_schedule(mail_app, later).reminders == 0
    run_dispatch(mail_app, later)
    reminders = [r for r in smtp_sink.received if r.message["Subject"].startswith("Reminder:")]
    assert [r.rcpt_tos for r in reminders] == [["ann@example.com"]]


def test_per_minute_cap(database_url, tmp_path, smtp_sink):
    from tests.conftest import Api, make_project
    from tests.email.conftest import email_app

    app = email_app(database_url, tmp_path / "var", smtp_sink.url, SEND_CAP_PER_MINUTE="2")
    api = Api(app.test_client(), make_project(app))
    create_survey(api)
    for i in range(5):
        create_person(api, f"p{i}")
    run_schedule(app)
    assert run_dispatch(app).sent == 2
    assert run_dispatch(app, NOW + timedelta(seconds=30)).sent == 0
    assert run_dispatch(app, NOW + timedelta(seconds=61)).sent == 2
    app.extensions["db_engine"].dispose()


def test_without_smtp_url_messages_are_eml_files(database_url, tmp_path, umask_022):
    from tests.conftest import Api, file_mode, make_project
    from tests.email.conftest import email_app

    app = email_app(database_url, tmp_path / "var", None)
    api = Api(app.test_client(), make_project(app))
    create_survey(api)
    create_person(api, "ann")
    run_schedule(app)
    assert run_dispatch(app).sent == 1
    outbox = tmp_path / "var" / "outbox"
    [eml] = list(outbox.glob("*.eml"))
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.read_bytes()
    # Owner-only, whatever the umask: each message carries live score and unsubscribe links.
    assert (file_mode(tmp_path / "var"), file_mode(outbox), file_mode(eml)) == (0o700, 0o700, 0o600)
    app.extensions["db_engine"].dispose()


def test_concurrent_claims_take_disjoint_batches(mail_app, mail_api):
    from sqlalchemy.orm import Session

    from surveys.email import delivery

    create_survey(mail_api)
    for i in range(4):
        create_person(mail_api, f"p{i}")
    run_schedule(mail_app)
    engine = mail_app.extensions["db_engine"]
    lease = timedelta(minutes=10)
    with Session(engine) as first, Session(engine) as second:
        mine = [i.id for i in delivery.claim(first, "first", NOW, limit=2, lease=lease)]
        if engine.dialect.name == "sqlite":
            first.commit()  # SQLite has one writer at a time; PostgreSQL skips locked rows
        theirs = [i.id for i in delivery.claim(second, "second", NOW, limit=10, lease=lease)]
        second.commit()
        first.commit()
    assert len(mine) == 2 and len(theirs) == 2 and not set(mine) & set(theirs)
