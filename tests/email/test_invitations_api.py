"""The outbox through the JSON API: lists, ad hoc sends, counts, schedules, unsubscribes."""

from __future__ import annotations

from tests.email.conftest import create_person, create_survey, run_dispatch, run_schedule


def test_list_and_filter_invitations(mail_app, mail_api, smtp_sink):
    first = create_survey(mail_api)
    ann = create_person(mail_api, "ann")
    create_person(mail_api, "bob")
    run_schedule(mail_app)
    page = mail_api.get("/api/v1/invitations?limit=1").get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = mail_api.get(f"/api/v1/invitations?limit=1&cursor={page['next_cursor']}").get_json()
    assert rest["items"][0]["id"] != page["items"][0]["id"]
    mine = mail_api.get(f"/api/v1/invitations?person_id={ann['id']}").get_json()["items"]
    assert [(i["person_id"], i["survey_id"], i["status"]) for i in mine] == [
        (ann["id"], first["id"], "scheduled")
    ]
    run_dispatch(mail_app)
    sent = mail_api.get(f"/api/v1/invitations?status=sent&survey_id={first['id']}").get_json()
    assert len(sent["items"]) == 2 and sent["items"][0]["sent_at"]
    one = mail_api.get(f"/api/v1/invitations/{mine[0]['id']}")
    assert one.status_code == 200 and one.get_json()["kind"] == "invite"
    assert mail_api.get("/api/v1/invitations?status=lost").status_code == 422


def test_other_projects_invitations_are_404(mail_app, mail_api, smtp_sink):
    from tests.conftest import Api, make_project

    survey = create_survey(mail_api)
    person = create_person(mail_api, "ann")
    run_schedule(mail_app)
    invitation_id = mail_api.get("/api/v1/invitations").get_json()["items"][0]["id"]
    other = Api(mail_app.test_client(), make_project(mail_app, "Other"))
    assert other.get(f"/api/v1/invitations/{invitation_id}").status_code == 404
    assert other.get("/api/v1/invitations").get_json()["items"] == []
    assert other.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").status_code == 404
    assert other.get(f"/api/v1/people/{person['id']}/schedule").status_code == 404
    resp = other.post(f"/api/v1/surveys/{survey['id']}/invitations", json={"person_ids": [1]})
    assert resp.status_code == 404
    resp = other.post("/api/v1/unsubscribes", json={"person_id": person["id"]})
    assert resp.status_code == 404
    assert mail_app.test_client().get("/api/v1/invitations").status_code == 401


def test_ad_hoc_honours_unsubscribes_and_the_fatigue_guard_unless_forced(
    mail_app, mail_api, smtp_sink
):
    survey = create_survey(mail_api, cadence_days=365)
    other = create_survey(mail_api, name="Other", channels=["widget"])
    ann = create_person(mail_api, "ann")
    bob = create_person(mail_api, "bob")
    gone = create_person(mail_api, "gone")
    nomail = create_person(mail_api, "nomail", email=None)
    mail_api.post("/api/v1/unsubscribes", json={"external_id": "gone"})
    url = f"/api/v1/surveys/{survey['id']}/invitations"
    ids = [ann["id"], bob["id"], gone["id"], nomail["id"]]
    first = mail_api.post(url, json={"person_ids": ids})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert sorted(i["person_id"] for i in body["invitations"]) == [ann["id"], bob["id"]]
    assert {s["person_id"]: s["reason"] for s in body["skipped"]} == {
        gone["id"]: "unsubscribed",
        nomail["id"]: "no_email",
    }
    assert run_dispatch(mail_app).sent == 2
    again = mail_api.post(url, json={"person_ids": [ann["id"]]}).get_json()
    assert again["skipped"] == [{"person_id": ann["id"], "reason": "throttled"}]
    forced = mail_api.post(url, json={"person_ids": [ann["id"], gone["id"]], "force": True})
    body = forced.get_json()
    assert [i["person_id"] for i in body["invitations"]] == [ann["id"]]
    assert body["skipped"] == [{"person_id": gone["id"], "reason": "unsubscribed"}]
    assert mail_api.post(url, json={"person_ids": []}).status_code == 422
    assert mail_api.post(url, json={"person_ids": ["x"]}).status_code == 422
    assert mail_api.post(url, json={"person_ids": [999999]}).status_code == 404
    assert (
        mail_api.post("/api/v1/surveys/999999/invitations", json={"person_ids": [1]}).status_code
        == 404
    )
    assert other["id"]


def test_stats_schedule_and_unsubscribes(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api, sample_rate=1.0)
    ann = create_person(mail_api, "ann")
    bob = create_person(mail_api, "bob", time_zone="Asia/Tokyo")
    plans = mail_api.get(f"/api/v1/people/{ann['id']}/schedule").get_json()
    assert plans["surveys"][0]["survey_id"] == survey["id"]
    assert plans["surveys"][0]["due"] is True
    run_schedule(mail_app)
    plans = mail_api.get(f"/api/v1/people/{bob['id']}/schedule").get_json()["surveys"]
    assert plans[0]["pending_invitation_id"] and plans[0]["reason"] is None
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert stats["scheduled"] == 2 and stats["response_rate"] is None
    run_dispatch(mail_app)
    plans = mail_api.get(f"/api/v1/people/{bob['id']}/schedule").get_json()["surveys"]
    assert plans[0]["reason"] in ("not_due", "throttled") and plans[0]["next_due_at"]
    stats = mail_api.get(f"/api/v1/surveys/{survey['id']}/invitations/stats").get_json()
    assert (stats["sent"], stats["responded"], stats["response_rate"]) == (2, 0, 0.0)

    added = mail_api.post("/api/v1/unsubscribes", json={"email": "New@Example.com"})
    assert added.status_code == 201 and added.get_json()["email"] == "new@example.com"
    existing = mail_api.post("/api/v1/unsubscribes", json={"person_id": ann["id"]})
    assert existing.status_code == 200 and existing.get_json()["unsubscribed_at"]
    listed = mail_api.get("/api/v1/unsubscribes").get_json()["items"]
    assert sorted(i["email"] for i in listed) == ["ann@example.com", "new@example.com"]
    # Adding the unsubscribed address later keeps it unsubscribed.
    person = mail_api.post("/api/v1/people", json={"email": "new@example.com"}).get_json()
    assert person["unsubscribed_at"]
    assert mail_api.post("/api/v1/unsubscribes", json={}).status_code == 422
    assert mail_api.post("/api/v1/unsubscribes", json={"email": "nope"}).status_code == 422
    assert mail_api.post("/api/v1/unsubscribes", json={"external_id": "zz"}).status_code == 404
    assert mail_api.get("/api/v1/people/999999/schedule").status_code == 404
    assert mail_api.get("/api/v1/surveys/999999/invitations/stats").status_code == 404


def test_openapi_documents_the_outbox(mail_app):
    spec = mail_app.test_client().get("/api/openapi.json").get_json()
    for path in (
        "/api/v1/invitations",
        "/api/v1/surveys/{survey_id}/invitations",
        "/api/v1/surveys/{survey_id}/invitations/stats",
        "/api/v1/people/{person_id}/schedule",
        "/api/v1/unsubscribes",
    ):
        assert path in spec["paths"], path
