"""Triage in the team app: editors tag, note and follow up from the feed and the person page;
viewers see it all and may post nothing; only a note's author deletes it; the feed filters by
tag, status and owner."""

from __future__ import annotations

import re

import pytest

from surveys.accounts.roles import Role
from tests.app.conftest import TeamClient, add_user
from tests.app.data import make_answers


@pytest.fixture
def data(api):
    return make_answers(api)


def signed_in(app, member) -> TeamClient:
    team = TeamClient(app.test_client())
    assert team.sign_in(member.email).status_code == 302
    return team


def feed_ids(team, query: str = "") -> list[int]:
    r = team.get(f"/app/responses?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    return [int(i) for i in re.findall(r'<li class="feed-item" id="r-(\d+)"', r.get_data(True))]


def newest(api) -> dict:
    return api.get("/api/v1/responses?limit=100").json["items"][-1]


def test_an_editor_follows_up_tags_and_notes_from_the_feed(app, api, data, editor, owner):
    team = signed_in(app, editor)
    rid = newest(api)["id"]
    page = team.get("/app/responses").get_data(as_text=True)
    assert f'action="/app/responses/{rid}/follow-up"' in page
    back = "/app/responses?segment=passive"
    r = team.post(
        f"/app/responses/{rid}/follow-up",
        {"status": "contacted", "owner": str(owner.id), "reason": "", "next": back},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{back}#r-{rid}")
    f = api.get(f"/api/v1/responses/{rid}/follow-up").json
    assert f["status"] == "contacted" and f["owner_email"] == owner.email
    # Resolving without a reason is refused on the page, and nothing changes.
    team.get("/app/responses")
    r = team.post(f"/app/responses/{rid}/follow-up", {"status": "resolved", "owner": ""})
    assert r.status_code == 302
    assert api.get(f"/api/v1/responses/{rid}/follow-up").json["status"] == "contacted"
    assert "Resolving needs a reason" in team.get("/app/responses").get_data(as_text=True)
    r = team.post(f"/app/responses/{rid}/tags", {"new_tag": "Billing", "next": "/app/responses"})
    assert r.status_code == 302
    r = team.post(f"/app/responses/{rid}/notes", {"text": "Left a voicemail"})
    assert r.status_code == 302
    html = team.get("/app/responses").get_data(as_text=True)
    assert '<span class="tag">Billing</span>' in html and "Left a voicemail" in html
    assert '<span class="status status-contacted">contacted</span>' in html
    tag = api.get("/api/v1/tags").json["items"][0]["id"]
    assert feed_ids(team, f"tag={tag}") == [rid]
    assert feed_ids(team, "status=contacted") == [rid]
    assert feed_ids(team, f"owner={owner.email}") == [rid]
    assert len(feed_ids(team, "status=none")) == 7
    # An address outside the team app is never followed back.
    r = team.post(f"/app/responses/{rid}/tags", {"tag": str(tag), "next": "//evil.test/x"})
    assert r.headers["Location"].startswith("/app/responses")
    # The person page shows and changes the same.
    person = newest(api)["person_id"]
    html = team.get(f"/app/people/{person}").get_data(as_text=True)
    assert "Left a voicemail" in html and f'action="/app/responses/{rid}/notes"' in html


def test_viewers_see_triage_but_cannot_change_it(app, api, data, editor, viewer):
    rid = newest(api)["id"]
    api.patch(f"/api/v1/responses/{rid}/follow-up", json={"owner_email": editor.email})
    api.post(
        f"/api/v1/responses/{rid}/notes", json={"text": "Seen it", "author_email": editor.email}
    )
    team = signed_in(app, viewer)
    html = team.get("/app/responses").get_data(as_text=True)
    assert "Seen it" in html and f"Owner: {editor.email}" in html
    assert "/follow-up" not in html and "Add note" not in html
    for url, form in [
        (f"/app/responses/{rid}/follow-up", {"status": "resolved", "reason": "x"}),
        (f"/app/responses/{rid}/notes", {"text": "viewer note"}),
        (f"/app/responses/{rid}/tags", {"new_tag": "x"}),
    ]:
        assert team.post(url, form).status_code == 403, url
    assert api.get(f"/api/v1/responses/{rid}/follow-up").json["status"] == "new"
    assert api.get("/api/v1/tags").json["items"] == []


def test_only_the_author_deletes_a_note(app, api, data, editor, owner):
    rid = newest(api)["id"]
    note = api.post(
        f"/api/v1/responses/{rid}/notes", json={"text": "Mine", "author_email": editor.email}
    ).json["id"]
    other = signed_in(app, owner)
    html = other.get("/app/responses").get_data(as_text=True)
    assert f"/app/notes/{note}/delete" not in html
    assert other.post(f"/app/notes/{note}/delete", {}).status_code == 403
    mine = signed_in(app, editor)
    assert f"/app/notes/{note}/delete" in mine.get("/app/responses").get_data(as_text=True)
    assert mine.post(f"/app/notes/{note}/delete", {}).status_code == 302
    assert api.get(f"/api/v1/responses/{rid}/notes").json["items"] == []


def test_another_projects_response_is_404(app, api, data, editor, other_api):
    theirs = other_api.post("/api/v1/surveys", json={"name": "S"}).json["id"]
    r = other_api.post(
        "/api/v1/responses", json={"survey_id": theirs, "person": {"external_id": "z"}, "score": 1}
    )
    team = signed_in(app, editor)
    team.get("/app/responses")
    rid = r.json["id"]
    assert team.post(f"/app/responses/{rid}/notes", {"text": "x"}).status_code == 404
    assert team.post(f"/app/responses/{rid}/follow-up", {"status": "new"}).status_code == 404
    _ = add_user, Role


def test_the_movement_page_shows_recovery_as_the_api(app, api, data, editor):
    cat_q1 = api.get(f"/api/v1/responses?person_id={data.people['cat']}").json["items"][0]
    assert cat_q1["score"] == 4
    r = api.patch(
        f"/api/v1/responses/{cat_q1['id']}/follow-up",
        json={"status": "resolved", "reason": "Fixed their slow dashboard"},
    )
    assert r.status_code == 200
    expected = api.get(f"/api/v1/metrics/recovery?survey_id={data.survey_id}&from=2026-Q1").json
    team = signed_in(app, editor)
    html = team.get(f"/app/movement?survey_id={data.survey_id}&from=2026-Q1&to=2026-Q2")
    html = html.get_data(as_text=True)
    shown = dict(re.findall(r'data-metric="([^"]+)" data-value="([^"]*)"', html))
    assert "Recovery: 2026-Q1 detractors in 2026-Q2" in html
    f = expected["followed_up"]
    assert (
        f["detractors"] == 1 and f["answered_next"]["count"] == 1 and f["change"]["change"] == 200
    )
    assert int(shown["followed_up_detractors"]) == 1
    assert int(shown["followed_up_answered"]) == 1
    assert float(shown["followed_up_change"]) == 200.0
    assert int(shown["not_followed_up_detractors"]) == expected["not_followed_up"]["detractors"]
