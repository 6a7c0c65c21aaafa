"""Which answers match a rule, grouping a burst into one message, promoter-to-detractor across
quarters, each match sent once (retries, a dead worker, two workers)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.db import db
from service.worker.alerts import run_alerts
from surveys.clock import utcnow
from surveys.loop import alerts
from surveys.models import AlertEvent, AlertRule
from surveys.periods import period_of, previous_period
from tests.loop.alerts.conftest import add_rule, answer, make_survey, run_pass


def _events(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db().query(AlertEvent).order_by(AlertEvent.id).all()
        return [(e.subject.split(":")[0], e.status) for e in rows]


def test_a_burst_of_five_detractors_within_the_window_is_one_message(
    alert_app, alert_api, receiver
):
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=60)
    start = utcnow()
    for n in range(5):
        answer(alert_api, survey, f"d{n}", n)
    answer(alert_api, survey, "passive", 7)
    answer(alert_api, survey, "promoter", 10)
    # Inside the window nothing goes; the matches are stored.
    assert run_pass(alert_app, start + timedelta(seconds=20)) == 0
    assert receiver.posts == []
    assert _events(alert_app) == [("response", "pending")] * 5
    assert run_pass(alert_app, start + timedelta(seconds=90)) == 5
    assert len(receiver.posts) == 1
    body = receiver.posts[0].body
    assert body["blocks"][0]["text"]["text"] == "5 detractors answered"
    assert sum(1 for b in body["blocks"] if b["type"] == "actions") == 5
    assert _events(alert_app) == [("response", "sent")] * 5
    # A later answer starts a new group.
    answer(alert_api, survey, "late", 0)
    assert run_pass(alert_app, start + timedelta(seconds=200)) == 1
    assert len(receiver.posts) == 2


def test_conditions_comment_property_and_revenue(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(
        alert_api,
        destination="slack",
        url=receiver.url(),
        comment_required=True,
        property_key="plan",
        property_value="enterprise",
        revenue_property="mrr",
        revenue_min=1000,
        group_seconds=0,
    )
    big = {"plan": "enterprise", "mrr": 5000}
    answer(alert_api, survey, "match", 3, comment="Slow", properties=big)
    answer(alert_api, survey, "no-comment", 3, comment="  ", properties=big)
    answer(alert_api, survey, "other-plan", 3, comment="Slow", properties={**big, "plan": "pro"})
    answer(alert_api, survey, "small", 3, comment="Slow", properties={**big, "mrr": 999})
    answer(alert_api, survey, "text-mrr", 3, comment="Slow", properties={**big, "mrr": "9000"})
    assert run_pass(alert_app, utcnow() + timedelta(seconds=1)) == 1
    section = receiver.posts[0].body["blocks"][2]
    assert section["text"]["text"] == "*match scored 3*"
    assert {"type": "mrkdwn", "text": "*mrr*\n5,000"} in section["fields"]


def test_a_promoter_who_drops_to_detractor_across_quarters(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    now = utcnow()
    this = period_of(now, "quarter", "UTC")
    before = previous_period(this, "quarter", "UTC")
    last_quarter = (before.start + timedelta(days=3)).isoformat() + "Z"
    answer(alert_api, survey, "fan", 10, created_at=last_quarter)
    answer(alert_api, survey, "lukewarm", 6, created_at=last_quarter)
    answer(alert_api, survey, "fresh", 10)
    add_rule(
        alert_api,
        kind="promoter_to_detractor",
        destination="slack",
        url=receiver.url(),
        group_seconds=0,
    )
    answer(alert_api, survey, "fan", 2, comment="You removed the export")
    answer(alert_api, survey, "fan", 1)  # the same drop: no second alert
    answer(alert_api, survey, "lukewarm", 2)  # a detractor before: no drop
    answer(alert_api, survey, "fresh", 2)  # a promoter this quarter, not the one before
    assert run_pass(alert_app, now + timedelta(seconds=5)) == 1
    body = receiver.posts[0].body
    assert body["blocks"][0]["text"]["text"] == "1 promoter dropped to detractor"
    fields = body["blocks"][2]["fields"]
    assert {"type": "mrkdwn", "text": f"*Before*\n10 in {before.label}"} in fields
    assert {"type": "mrkdwn", "text": "*Score*\n2"} in fields


def test_a_rule_does_not_alert_on_answers_older_than_itself(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    answer(alert_api, survey, "old", 0)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    assert run_pass(alert_app, utcnow() + timedelta(seconds=5)) == 0
    assert receiver.posts == []


def test_a_failed_post_is_retried_then_given_up(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    rule = add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    answer(alert_api, survey, "a", 1)
    receiver.statuses = [503]
    now = utcnow() + timedelta(seconds=1)
    assert run_pass(alert_app, now) == 0
    assert _events(alert_app) == [("response", "pending")]
    seen = alert_api.get(f"/api/v1/alert-rules/{rule['id']}").get_json()
    assert seen["last_status"] == "failed"
    assert "answered 503" in seen["last_error"]
    assert run_pass(alert_app, now + timedelta(seconds=10)) == 0  # waits for its retry time
    assert run_pass(alert_app, now + timedelta(seconds=31)) == 1
    assert len(receiver.posts) == 2
    assert receiver.posts[0].body == receiver.posts[1].body
    assert _events(alert_app) == [("response", "sent")]
    # A 400 (Slack's invalid_payload) is not worth retrying.
    answer(alert_api, survey, "b", 1)
    receiver.statuses = [400]
    assert run_pass(alert_app, now + timedelta(seconds=60)) == 0
    assert _events(alert_app)[-1] == ("response", "failed")
    assert run_pass(alert_app, now + timedelta(hours=2)) == 0
    assert len(receiver.posts) == 3


def test_a_message_in_flight_when_its_worker_died_is_not_sent_again(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    answer(alert_api, survey, "a", 1)
    now = utcnow() + timedelta(seconds=1)
    with alert_app.app_context():
        session = db()
        [rule_id] = alerts.active_rule_ids(session)
        rule = alerts.claim_rule(session, rule_id, "dead", now)
        alerts.match_answers(session, rule, now)
        session.commit()
        assert len(alerts.take_due(session, rule, now)) == 1
        session.commit()  # committed `sending`; the worker dies before posting
    # Its lease runs out; the next worker finds the match in flight and leaves it uncertain.
    assert run_pass(alert_app, now + alerts.LEASE + timedelta(seconds=1)) == 0
    assert receiver.posts == []
    assert _events(alert_app) == [("response", "uncertain")]


def test_two_workers_never_send_one_rule_twice(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    answer(alert_api, survey, "a", 1)
    now = utcnow() + timedelta(seconds=1)
    with alert_app.app_context():
        session = db()
        [rule_id] = alerts.active_rule_ids(session)
        assert alerts.claim_rule(session, rule_id, "first", now) is not None
        session.commit()
        # The second worker finds the rule taken and leaves it.
        assert run_alerts(session, alert_app.config["FLYWHEEL"], now, worker="second") == 0
        alerts.release_rule(session, rule_id, "first")
        session.commit()
        assert run_alerts(session, alert_app.config["FLYWHEEL"], now, worker="second") == 1
        # Matching again from the start finds every match taken (unique per rule and answer).
        rule = session.get(AlertRule, rule_id)
        rule.settled_to = rule.examined_to = 0
        assert alerts.match_answers(session, rule, now) == 0
        session.commit()
    assert len(receiver.posts) == 1


def test_an_answer_committed_after_a_higher_id_was_examined_is_still_matched(
    alert_app, alert_api, receiver
):
    """Ids are taken when a transaction inserts, not when it commits: a pass may see id 8
    before id 7 commits. Each range is examined twice, so id 7 is caught the second time."""
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    late = answer(alert_api, survey, "late", 1)
    now = utcnow() + timedelta(seconds=1)
    with alert_app.app_context():
        session = db()
        rule = session.scalars(select(AlertRule)).one()
        # As if the previous pass had seen ids up to late + 1 while `late` was uncommitted.
        rule.settled_to, rule.examined_to = late["id"] - 1, late["id"] + 1
        session.commit()
    assert run_pass(alert_app, now) == 1
    assert len(receiver.posts) == 1
    with alert_app.app_context():
        rule = db().scalars(select(AlertRule)).one()
        assert (rule.settled_to, rule.examined_to) == (late["id"], late["id"] + 1)


def test_erasing_a_person_removes_their_pending_matches(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=60)
    gone = answer(alert_api, survey, "gone", 1, comment="my words")
    answer(alert_api, survey, "stays", 2)
    start = utcnow()
    assert run_pass(alert_app, start + timedelta(seconds=5)) == 0
    assert len(_events(alert_app)) == 2
    assert alert_api.delete(f"/api/v1/people/{gone['person_id']}").status_code == 204
    assert _events(alert_app) == [("response", "pending")]
    assert run_pass(alert_app, start + timedelta(seconds=90)) == 1
    body = receiver.posts[0].body
    assert body["blocks"][0]["text"]["text"] == "1 detractor answered"
    assert "my words" not in str(body)


def test_the_worker_loop_runs_the_alerts_pass(alert_app, alert_api, receiver):
    from service.worker.loop import run_once

    assert run_once(alert_app)["alerts"] == 0
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url(), group_seconds=0)
    answer(alert_api, survey, "a", 0)
    assert run_once(alert_app)["alerts"] == 1
    assert len(receiver.posts) == 1
