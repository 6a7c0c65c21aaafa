"""Delivery through a real HTTP receiver on loopback: signatures verified with the
`standardwebhooks` library, retries on the schedule with the same webhook-id, permanent
failures, disabling and the owners' email, leases, filters, redelivery and test events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.db import db
from service.worker.webhooks import timings
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member
from surveys.clock import utcnow
from surveys.loop import deliveries
from surveys.models import Delivery, Event
from tests.conftest import TEST_SECRET, Api
from tests.email.conftest import email_app
from tests.loop.webhooks.conftest import deliver, make_webhook


def _survey(api: Api) -> dict:
    resp = api.post("/api/v1/surveys", json={"name": "Q"})
    assert resp.status_code == 201
    return resp.get_json()


def _answer(api: Api, survey: dict, external_id: str, score: int, **extra) -> dict:
    body = {"survey_id": survey["id"], "person": {"external_id": external_id}, "score": score}
    resp = api.post("/api/v1/responses", json={**body, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _log(api: Api, webhook: dict) -> list[dict]:
    resp = api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries")
    assert resp.status_code == 200
    return resp.get_json()["items"]


def test_fails_twice_then_succeeds_with_one_webhook_id(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    survey = _survey(hook_api)
    answer = _answer(hook_api, survey, "p1", 3, comment="Too slow")
    receiver.script = [500, 503]
    t0 = utcnow()
    assert deliver(hook_app, t0) == 1
    assert _log(hook_api, hook)[0]["status"] == "pending"
    # Not due yet: the first retry waits 5 s, the second 30 s.
    assert deliver(hook_app, t0 + timedelta(seconds=4)) == 0
    assert deliver(hook_app, t0 + timedelta(seconds=5)) == 1
    assert deliver(hook_app, t0 + timedelta(seconds=34)) == 0
    assert deliver(hook_app, t0 + timedelta(seconds=35)) == 1
    calls = receiver.calls
    assert [c.answered for c in calls] == [500, 503, 200]
    assert all(c.verified for c in calls)
    assert len({c.headers["webhook-id"] for c in calls}) == 1
    assert calls[0].headers["webhook-id"].startswith("msg_")
    assert len({c.body for c in calls}) == 1
    sent = calls[0].json
    assert sent["type"] == "response.created"
    assert sent["data"] == hook_api.get(f"/api/v1/responses/{answer['id']}").get_json()
    assert sent["data"]["segment"] == "detractor" and sent["timestamp"].endswith("Z")
    log = _log(hook_api, hook)
    assert len(log) == 1
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 3
    assert log[0]["response_code"] == 200 and log[0]["latency_ms"] >= 0
    assert log[0]["msg_id"] == calls[0].headers["webhook-id"]
    with hook_app.app_context():
        assert db().scalars(select(Event)).all() == []


def test_a_4xx_answer_fails_at_once(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "p1", 9)
    receiver.default = 400
    assert deliver(hook_app) == 1
    assert deliver(hook_app, utcnow() + timedelta(hours=30)) == 0
    (row,) = _log(hook_api, hook)
    assert row["status"] == "failed" and row["attempts"] == 1 and row["response_code"] == 400
    assert hook_api.get(f"/api/v1/webhooks/{hook['id']}").get_json()["consecutive_failures"] == 1


def test_timeouts_and_429_are_retried(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "p1", 9)
    receiver.delay = 1.5  # the app's limit is 1 s
    t0 = utcnow()
    deliver(hook_app, t0)
    row = _log(hook_api, hook)[0]
    assert row["status"] == "pending" and row["error"] == "timed out"
    receiver.delay, receiver.script = 0.0, [429]
    deliver(hook_app, t0 + timedelta(seconds=5))
    assert _log(hook_api, hook)[0]["response_code"] == 429
    deliver(hook_app, t0 + timedelta(seconds=35))
    assert _log(hook_api, hook)[0]["status"] == "succeeded"
    ids = {c.headers["webhook-id"] for c in receiver.wait_for(3)}
    assert len(ids) == 1


def test_an_endpoint_failing_past_the_schedule_is_disabled_and_owners_told(
    hook_app, hook_api, receiver, smtp_sink
):
    with hook_app.app_context():
        add_member(db(), hook_api.keys.id, "boss@acme.test", Role.OWNER)
        add_member(db(), hook_api.keys.id, "viewer@acme.test", Role.VIEWER)
        db().commit()
    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "p1", 9)
    receiver.default = 502
    moment = utcnow()
    for wait in (0, *deliveries.RETRY_SCHEDULE):
        moment += timedelta(seconds=wait)
        assert deliver(hook_app, moment) == 1
    assert len(receiver.calls) == deliveries.MAX_ATTEMPTS == 9
    assert sum(deliveries.RETRY_SCHEDULE) >= 24 * 3600
    state = hook_api.get(f"/api/v1/webhooks/{hook['id']}").get_json()
    assert state["active"] is False and state["disabled_at"] is not None
    assert "9 times" in state["disabled_reason"]
    assert _log(hook_api, hook)[0]["status"] == "failed"
    (mail,) = smtp_sink.received
    assert mail.rcpt_tos == ["boss@acme.test"]
    assert "disabled" in mail.message["Subject"]
    assert receiver.url in mail.message.get_content()
    # Nothing more is sent, nor recorded, while it is off.
    _answer(hook_api, _survey(hook_api), "p2", 9)
    assert deliver(hook_app, moment + timedelta(days=1)) == 0
    # Turned back on by hand: it starts afresh.
    receiver.default = 200
    back = hook_api.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True}).get_json()
    assert back["disabled_at"] is None and back["consecutive_failures"] == 0


def test_a_worker_killed_mid_delivery_loses_nothing(hook_app, hook_api, receiver):
    """A real worker process is killed while the receiver holds its request; once the lease
    runs out, the next pass sends the same message again."""
    import os
    import signal
    import subprocess
    import sys

    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "p1", 9)
    receiver.hang = True
    settings = hook_app.config["FLYWHEEL"]
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": TEST_SECRET,
        "VAR_DIR": str(settings.var_dir),
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    script = (
        "from service.factory import create_app\n"
        "from service.worker.webhooks import deliver_pass\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    deliver_pass(app)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        assert receiver.arrived.wait(30), "the worker never called"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.hang = False
    receiver.release.set()
    (row,) = _log(hook_api, hook)
    assert row["status"] == "sending" and row["attempts"] == 1
    # Within the lease nobody takes it; after, it is sent again.
    assert deliver(hook_app, utcnow()) == 0
    _sending, lease = timings(settings)
    assert deliver(hook_app, utcnow() + lease + timedelta(seconds=1)) == 1
    calls = receiver.wait_for(2)
    assert len(calls) == 2 and all(c.verified for c in calls)
    assert calls[0].headers["webhook-id"] == calls[1].headers["webhook-id"]
    row = _log(hook_api, hook)[0]
    assert row["status"] == "succeeded" and row["attempts"] == 2


def test_filters_pick_the_answers(hook_app, hook_api, receiver):
    survey, other = _survey(hook_api), _survey(hook_api)
    make_webhook(hook_api, receiver, survey_id=survey["id"], score_max=6)
    _answer(hook_api, survey, "a", 9)
    low = _answer(hook_api, survey, "b", 2)
    _answer(hook_api, other, "c", 1)
    deliver(hook_app)
    assert [c.json["data"]["id"] for c in receiver.calls] == [low["id"]]


def test_updated_and_unsubscribe_events(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver, events=["response.updated", "unsubscribe.created"])
    first = _answer(hook_api, _survey(hook_api), "a", 7)
    resp = hook_api.patch(f"/api/v1/responses/{first['id']}", json={"comment": "Better now"})
    assert resp.status_code == 200
    hook_api.post("/api/v1/unsubscribes", json={"email": "leaver@example.com"})
    deliver(hook_app)
    # Several connections to one endpoint: no order is promised.
    by_type = {c.json["type"]: c.json["data"] for c in receiver.calls}
    assert sorted(by_type) == ["response.updated", "unsubscribe.created"]
    assert by_type["response.updated"]["comment"] == "Better now"
    assert by_type["unsubscribe.created"]["email"] == "leaver@example.com"
    assert all(c.verified for c in receiver.calls)
    assert len(_log(hook_api, hook)) == 2


def test_segment_change_between_quarters(hook_app, hook_api, receiver):
    make_webhook(hook_api, receiver, events=["person.segment_changed"])
    survey = _survey(hook_api)
    now = utcnow()
    before = (now - timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _answer(hook_api, survey, "mover", 10, created_at=before)
    _answer(hook_api, survey, "mover", 9)  # still a promoter: no event
    _answer(hook_api, survey, "mover", 4)  # now a detractor
    _answer(hook_api, survey, "mover", 3)  # still a detractor: no event
    _answer(hook_api, survey, "steady", 8)  # new, nothing to compare with
    deliver(hook_app)
    (call,) = receiver.calls
    data = call.json["data"]
    assert call.json["type"] == "person.segment_changed"
    assert data["person"]["external_id"] == "mover"
    assert (data["previous_segment"], data["segment"]) == ("promoter", "detractor")
    assert data["unit"] == "quarter" and data["survey_id"] == survey["id"]


def test_redeliver_and_test_event(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    test = hook_api.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert test.status_code == 202 and test.get_json()["event_type"] == "webhook.test"
    deliver(hook_app)
    (call,) = receiver.calls
    assert call.verified and call.json["type"] == "webhook.test"
    again = hook_api.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{test.get_json()['id']}/redeliver"
    )
    assert again.status_code == 202 and again.get_json()["status"] == "pending"
    deliver(hook_app)
    assert len(receiver.calls) == 2
    assert receiver.calls[1].headers["webhook-id"] == call.headers["webhook-id"]
    assert receiver.calls[1].verified


def test_rotated_secret_signs_the_next_attempt(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "a", 9)
    rotated = hook_api.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").get_json()
    receiver.secret = rotated["secret"]
    deliver(hook_app)
    assert receiver.calls[0].verified


def test_private_target_refused_at_delivery(hook_app, hook_api, receiver, database_url, tmp_path):
    """Allowed when saved, refused when sent by a worker that does not allow private targets
    (a name can also resolve elsewhere later): failed, not sent, with the reason."""
    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "a", 9)
    strict = email_app(database_url, tmp_path / "var2", None)
    try:
        assert deliver(strict) == 1
    finally:
        strict.extensions["db_engine"].dispose()
    assert receiver.calls == []
    (row,) = _log(hook_api, hook)
    assert row["status"] == "failed"
    assert row["error"] == "refused: url points to a private, loopback or link-local address"


def test_fan_out_twice_makes_one_delivery(hook_app, hook_api, receiver):
    make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "a", 9)
    from service.worker.webhooks import render

    with hook_app.app_context():
        event = db().scalars(select(Event)).one()
        again = {c: getattr(event, c) for c in ("id", "project_id", "type", "object_id", "data")}
        assert deliveries.fan_out(db(), utcnow(), render) == 1
        # The same event seen by a second fan-out (two workers on SQLite could).
        db().add(Event(**again, created_at=utcnow()))
        db().flush()
        assert deliveries.fan_out(db(), utcnow(), render) == 1
        db().commit()
        assert len(db().scalars(select(Delivery)).all()) == 1
        assert db().scalars(select(Event)).all() == []


def test_a_bounce_is_an_event(hook_app, hook_api, receiver, smtp_sink):
    from tests.email.conftest import create_person, create_survey, run_dispatch, run_schedule

    make_webhook(hook_api, receiver, events=["invitation.bounced"])
    create_survey(hook_api)
    person = create_person(hook_api, "gone")
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 no such user"
    run_schedule(hook_app)
    assert run_dispatch(hook_app).failed == 1
    deliver(hook_app)
    (call,) = receiver.calls
    assert call.verified and call.json["type"] == "invitation.bounced"
    data = call.json["data"]
    assert data["person_id"] == person["id"] and data["status"] == "failed"
    assert data == hook_api.get(f"/api/v1/invitations/{data['id']}").get_json()


def test_a_finished_theme_run_is_an_event(hook_app, hook_api, receiver):
    from service.worker.theme_jobs import fit_queued_runs
    from tests.themes.corpus import load

    load(hook_api, hook_app)
    make_webhook(hook_api, receiver, events=["theme_run.completed"])
    run = hook_api.post("/api/v1/themes/runs", json={}).get_json()
    with hook_app.app_context():
        assert fit_queued_runs(hook_app) == 1
    deliver(hook_app)
    (call,) = receiver.calls
    assert call.verified and call.json["type"] == "theme_run.completed"
    assert call.json["data"] == hook_api.get(f"/api/v1/themes/runs/{run['id']}").get_json()
    assert call.json["data"]["status"] == "done"


def test_erasing_a_person_deletes_the_deliveries_carrying_their_words(hook_app, hook_api, receiver):
    hook = make_webhook(hook_api, receiver)
    survey = _survey(hook_api)
    theirs = _answer(hook_api, survey, "leaver", 2, comment="My words")
    _answer(hook_api, survey, "stayer", 9)
    deliver(hook_app)
    assert len(_log(hook_api, hook)) == 2
    assert hook_api.delete(f"/api/v1/people/{theirs['person_id']}").status_code == 204
    (left,) = _log(hook_api, hook)
    with hook_app.app_context():
        payloads = db().scalars(select(Delivery.payload)).all()
    assert "My words" not in "".join(payloads) and left["status"] == "succeeded"


def test_a_lane_out_of_time_hands_its_claims_back_untried(hook_app, hook_api, receiver):
    from service.worker.webhooks import SEAL_PURPOSE, _send_all, fan_out_pass
    from surveys.sealed import Sealer

    hook = make_webhook(hook_api, receiver)
    _answer(hook_api, _survey(hook_api), "a", 9)
    with hook_app.app_context():
        now = utcnow()
        assert fan_out_pass(hook_app, now) == 1
        claimed = deliveries.claim(db(), "w1", now, limit=10, lease=timedelta(minutes=1))
        assert [a.attempts for a in claimed] == [1]
        sealer = Sealer(hook_app.config["SECRET_KEY"], SEAL_PURPOSE)
        settings = hook_app.config["FLYWHEEL"]
        results = _send_all(settings, sealer, claimed, stop_at=0.0)
        assert [o for _, o in results] == [deliveries.UNTRIED]
        deliveries.record(db(), results, now)
        db().commit()
    assert receiver.calls == []
    (row,) = _log(hook_api, hook)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert deliver(hook_app) == 1 and _log(hook_api, hook)[0]["attempts"] == 1


def test_the_workers_fast_loop_delivers_within_seconds(hook_app, hook_api, receiver):
    """The worker's short-interval thread, not the one-minute round, sends the event."""
    import threading
    import time

    from service.worker.loop import run_fast

    make_webhook(hook_api, receiver)
    stop = threading.Event()
    thread = threading.Thread(target=run_fast, args=(hook_app, 0.2, stop), daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        _answer(hook_api, _survey(hook_api), "a", 9)
        (call,) = receiver.wait_for(1, timeout=10)
        assert call.verified and time.monotonic() - started < 10
    finally:
        stop.set()
        thread.join(10)
