"""The worker pass that opens follow-ups for detractors and downward movers."""

from __future__ import annotations

from service.db import db
from service.worker import triage as triage_jobs
from service.worker.loop import worker_passes
from surveys.loop.triage_opening import opens
from tests.loop.triage.conftest import answer


def run_pass(app) -> int:
    with app.app_context():
        return triage_jobs.open_follow_ups(app)


def status(api, response) -> tuple[int, dict]:
    r = api.get(f"/api/v1/responses/{response['id']}/follow-up")
    return r.status_code, r.json


def test_opens_detractors_and_moves_down():
    assert opens(6, None) and opens(0, 10)
    assert opens(8, 9)  # promoter to passive
    assert not opens(8, None) and not opens(8, 7) and not opens(9, 3) and not opens(None, 9)


def test_pass_is_listed_last_and_opens_only_after_switching_on(app, api, survey_id, ana):
    assert worker_passes()[-1][0] == "follow_ups"
    before = answer(api, survey_id, "old", 2)
    r = api.patch(
        "/api/v1/follow-up-settings",
        json={
            "enabled": True,
            "owner_property": "account_owner",
            "sla_hours": {"detractor": 24, "passive": 48},
        },
    )
    assert r.status_code == 200
    was_promoter = answer(api, survey_id, "mia", 10, when="2026-01-05T10:00:00Z")
    detractor = answer(
        api, survey_id, "leo", 3, properties={"account_owner": "Ana@Acme.test", "plan": "pro"}
    )
    stranger_owner = answer(api, survey_id, "kim", 5, properties={"account_owner": "x@y.test"})
    moved_down = answer(api, survey_id, "mia", 7, when="2026-04-05T10:00:00Z")
    promoter = answer(api, survey_id, "zoe", 9)
    assert run_pass(app) == 5
    assert run_pass(app) == 0  # nothing new: idempotent
    assert status(api, before)[0] == 404
    assert status(api, was_promoter)[0] == 404
    assert status(api, promoter)[0] == 404
    code, f = status(api, detractor)
    assert code == 200 and f["status"] == "new" and f["source"] == "auto"
    assert f["owner_email"] == "ana@acme.test"
    assert status(api, stranger_owner)[1]["owner_email"] is None
    code, f = status(api, moved_down)
    assert code == 200 and f["owner_email"] is None
    # SLA per segment from the moment it opened: 24 h for a detractor, 48 h for a passive.
    from datetime import datetime

    def hours(f):
        due = datetime.fromisoformat(f["due_at"].replace("Z", ""))
        opened = datetime.fromisoformat(f["opened_at"].replace("Z", ""))
        return (due - opened).total_seconds() / 3600

    assert hours(status(api, detractor)[1]) == 24
    assert hours(status(api, moved_down)[1]) == 48


def test_a_follow_up_changed_by_hand_is_kept_when_the_pass_reruns(app, api, survey_id):
    api.patch("/api/v1/follow-up-settings", json={"enabled": True})
    d = answer(api, survey_id, "leo", 1)
    # A member opened it before the pass ran: the pass keeps their row.
    api.patch(f"/api/v1/responses/{d['id']}/follow-up", json={"status": "contacted"})
    assert run_pass(app) == 1
    assert status(api, d)[1]["status"] == "contacted"
    assert status(api, d)[1]["source"] == "manual"
    # Rewinding the cursor and running again changes nothing either.
    from surveys.models import FollowUpSettings

    with app.app_context():
        db().get(FollowUpSettings, api.keys.id).scanned_until_id = 0
        db().commit()
    assert run_pass(app) == 1
    assert status(api, d)[1]["status"] == "contacted"


def test_switched_off_projects_are_left_alone(app, api, survey_id):
    api.patch("/api/v1/follow-up-settings", json={"enabled": True})
    api.patch("/api/v1/follow-up-settings", json={"enabled": False})
    d = answer(api, survey_id, "leo", 1)
    assert run_pass(app) == 0
    assert status(api, d)[0] == 404
