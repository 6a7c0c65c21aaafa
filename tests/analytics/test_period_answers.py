"""Period answers kept as answers arrive equal the same rows rebuilt from every stored answer;
a new time zone makes them stale, movement stays right meanwhile, and the worker rebuilds them."""

from __future__ import annotations

from datetime import datetime

from service.db import db
from service.worker import period_jobs
from surveys import period_answers
from surveys.answers import Answer, record_answer
from surveys.models import Display, Person
from tests.analytics.helpers import cells, exclude, movement, rebuilt, rows
from tests.answers import answer
from tests.conftest import Api, make_project

NOW = datetime(2026, 11, 1)


def test_kept_rows_equal_a_rebuild_after_edits(app, client):
    keys = make_project(app, "New York Co", "America/New_York")
    api = Api(client, keys)
    survey_id = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    late = answer(api, survey_id, "a", 9, "2026-02-20T12:00:00Z")
    early = answer(api, survey_id, "a", 2, "2026-02-10T12:00:00Z")  # older, arrives later
    # 02:00 UTC on 1 April is still 31 March in New York: Q1 and March there.
    edge = answer(api, survey_id, "b", 5, "2026-04-01T02:00:00Z")
    answer(api, survey_id, "b", 10, "2026-04-01T05:00:00Z")  # 1 April in New York: Q2
    tie = [answer(api, survey_id, "c", s, "2026-05-05T10:00:00Z") for s in (3, 8)]
    excluded = answer(api, survey_id, "d", 10, "2026-06-30T12:00:00Z")
    answer(api, survey_id, "d", 4, "2026-06-01T12:00:00Z")
    exclude(api, excluded)  # d's June answer no longer counts: the 4 in June does
    back = answer(api, survey_id, "e", 7, "2026-07-02T12:00:00Z")
    exclude(api, back)
    api.patch(f"/api/v1/responses/{back['id']}", json={"excluded": False})  # counted again
    gone = answer(api, survey_id, "f", 9, "2026-01-05T12:00:00Z")
    assert api.delete(f"/api/v1/people/{gone['person_id']}").status_code == 204
    api.post("/api/v1/responses", json={"person": {"external_id": "g"}, "comment": "no score"})

    kept = rows(app, keys.id)
    assert kept == rebuilt(app, keys.id)
    by_key = {(unit, period, person): (score, rid) for _, unit, period, person, score, rid in kept}
    a, b, c, d, e = (x["person_id"] for x in (late, edge, tie[0], excluded, back))
    assert by_key[("quarter", "2026-Q1", a)] == (9, late["id"])  # the latest, not the last sent
    assert by_key[("month", "2026-02", a)] == (9, late["id"])
    assert early["id"] not in {rid for *_, rid in kept}
    assert by_key[("quarter", "2026-Q1", b)] == (5, edge["id"])
    assert by_key[("month", "2026-03", b)] == (5, edge["id"])
    assert by_key[("quarter", "2026-Q2", b)][0] == 10
    assert by_key[("quarter", "2026-Q2", c)] == (8, tie[1]["id"])  # same time: the later id
    assert by_key[("quarter", "2026-Q2", d)][0] == 4
    assert by_key[("quarter", "2026-Q3", e)] == (7, back["id"])
    assert not [k for k in by_key if k[2] == gone["person_id"]]
    assert len(kept) == 2 * 6  # a, b (twice), c, d, e: six person-quarters and six months


def test_a_new_score_on_the_same_display_replaces_the_counted_one(app, api, project, survey_id):
    first = answer(api, survey_id, "a", 9, "2026-02-01T12:00:00Z")
    with app.app_context():
        session = db()
        person = session.get(Person, first["person_id"])
        display = Display(project_id=project.id, survey_id=survey_id, person_id=person.id)
        session.add(display)
        session.flush()
        on_display = Answer(survey_id, 10, channel="widget", display_id=display.id)
        response, _ = record_answer(session, project.id, person, on_display, now=NOW)
        rescored = Answer(survey_id, 1, channel="widget", display_id=display.id)
        again, created = record_answer(session, project.id, person, rescored, now=NOW)
        session.commit()
        assert again.id == response.id and not created
    kept = rows(app, project.id)
    assert kept == rebuilt(app, project.id)
    assert {(period, score) for _, _, period, _, score, _ in kept} == {
        ("2026-Q1", 9),
        ("2026-02", 9),
        ("2026-Q4", 1),  # rescored from 10 on the same display
        ("2026-11", 1),
    }


def test_a_new_time_zone_is_read_right_before_and_after_the_rebuild(app, client):
    keys = make_project(app, "Tokyo KK", "Asia/Tokyo")
    api = Api(client, keys)
    survey_id = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    answer(api, survey_id, "a", 10, "2026-03-15T12:00:00Z")
    # 20:00 UTC on 31 March is already 1 April in Tokyo: Q2 there, Q1 in UTC.
    answer(api, survey_id, "a", 0, "2026-03-31T20:00:00Z")
    answer(api, survey_id, "b", 8, "2026-03-31T20:00:00Z")
    query = "from=2026-Q1&to=2026-Q2"
    assert cells(movement(api, survey_id, query)) == {("promoter", "detractor"): 1}

    assert api.patch("/api/v1/project", json={"time_zone": "UTC"}).status_code == 200
    with app.app_context():
        assert period_answers.stale_projects(db()) == [keys.id]
    # Stale rows are not read: the answers themselves are ranked in the new zone.
    stale = movement(api, survey_id, query)
    assert stale["time_zone"] == "UTC"
    assert cells(stale) == {}
    assert stale["lapsed"]["total"] == 2  # a (detractor) and b (passive) both in Q1 now

    with app.app_context():
        assert period_jobs.rebuild_stale(app) == 1
        assert period_answers.stale_projects(db()) == []
        assert period_jobs.rebuild_stale(app) == 0
    assert movement(api, survey_id, query) == stale
    assert {p for _, unit, p, *_ in rows(app, keys.id) if unit == "quarter"} == {"2026-Q1"}
