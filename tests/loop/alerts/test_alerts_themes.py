"""Friction-point growth: the two-proportion z-test against hand-computed values, and an alert
when a theme's share grows significantly from last quarter to this one."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from service.db import db
from surveys.clock import utcnow
from surveys.loop.theme_growth import two_proportion_z
from surveys.models import FrictionPoint, Person, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.periods import period_of, previous_period
from tests.loop.alerts.conftest import add_rule, run_pass


def test_z_test_against_hand_values():
    # 20 of 100 now against 5 of 100 before: pooled p = 25/200 = 0.125,
    # se = sqrt(0.125 * 0.875 * (1/100 + 1/100)) = sqrt(0.0021875) = 0.0467707...,
    # z = 0.15 / 0.0467707 = 3.20713, one-sided p = 1 - Phi(3.20713) = 0.000670.
    test = two_proportion_z(20, 100, 5, 100)
    assert test.z == pytest.approx(3.20713, abs=1e-5)
    assert test.p_value == pytest.approx(0.000670, abs=2e-6)
    # 12 of 100 against 10 of 100: p = 0.11, se = sqrt(0.11 * 0.89 * 0.02) = 0.0442493,
    # z = 0.02 / 0.0442493 = 0.45198, p = 0.3256: not significant.
    small = two_proportion_z(12, 100, 10, 100)
    assert small.z == pytest.approx(0.45198, abs=1e-5)
    assert small.p_value == pytest.approx(0.3256, abs=1e-4)
    assert two_proportion_z(0, 0, 1, 10).p_value == 1.0
    assert two_proportion_z(0, 10, 0, 10).z == 0.0
    assert math.isclose(two_proportion_z(5, 100, 20, 100).z, -3.20713, abs_tol=1e-5)


def _comments(session, project_id: int, run: ThemeRun, when, points: dict, total: int) -> None:
    """`total` comments at `when`, `points[point]` of them in each point, the rest unassigned."""
    person = Person(project_id=project_id, external_id=f"p-{when.isoformat()}", properties={})
    session.add(person)
    session.flush()
    kinds = [fp for fp, n in points.items() for _ in range(n)]
    kinds += [None] * (total - len(kinds))
    for n, point in enumerate(kinds):
        response = SurveyResponse(
            project_id=project_id,
            person_id=person.id,
            score=3,
            comment=f"comment {n}",
            created_at=when + timedelta(seconds=n),
            properties={},
        )
        session.add(response)
        session.flush()
        session.add(
            ThemeAssignment(
                run_id=run.id,
                response_id=response.id,
                friction_point_id=point.id if point else None,
            )
        )


def test_a_theme_whose_share_grows_significantly_is_alerted_once(alert_app, alert_api, receiver):
    now = utcnow()
    this = period_of(now, "quarter", "UTC")
    before = previous_period(this, "quarter", "UTC")
    rule = add_rule(
        alert_api,
        name="Growing themes",
        kind="theme_growth",
        destination="slack",
        url=receiver.url(),
        group_seconds=0,
    )
    with alert_app.app_context():
        session = db()
        project_id = alert_api.keys.id
        run = ThemeRun(project_id=project_id, status="done", params={}, counts={})
        session.add(run)
        session.flush()
        growing = FrictionPoint(
            run_id=run.id, project_id=project_id, cluster=0, label="Exports fail"
        )
        steady = FrictionPoint(run_id=run.id, project_id=project_id, cluster=1, label="Pricing")
        session.add_all([growing, steady])
        session.flush()
        _comments(
            session,
            project_id,
            run,
            before.start + timedelta(days=2),
            {growing: 5, steady: 10},
            100,
        )
        _comments(session, project_id, run, this.start, {growing: 20, steady: 12}, 100)
        session.commit()
    assert run_pass(alert_app, now) == 1
    [post] = receiver.posts
    body = post.body
    assert body["blocks"][0]["text"]["text"] == "Friction point growing: Exports fail"
    fields = body["blocks"][2]["fields"]
    assert {"type": "mrkdwn", "text": f"*Share in {this.label}*\n20.0% (20 of 100)"} in fields
    assert {"type": "mrkdwn", "text": f"*Share in {before.label}*\n5.0% (5 of 100)"} in fields
    assert {"type": "mrkdwn", "text": "*Test*\nz = 3.21, p = 0.0007"} in fields
    # Checked again a day later (or after a new run): the same theme and quarter, no new alert.
    assert run_pass(alert_app, now + timedelta(days=1, seconds=1)) == 0
    assert len(receiver.posts) == 1
    assert alert_api.get(f"/api/v1/alert-rules/{rule['id']}").get_json()["last_status"] == "sent"
